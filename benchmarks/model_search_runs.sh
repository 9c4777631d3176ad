#!/usr/bin/env bash
# The model search of issue 13, run by run (benchmarks/README.md, "Model search").
# One BLAS thread; each step is one job (2 shared cores). W holds the work files.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
W=${W:-/tmp/ms}
mkdir -p "$W" benchmarks/out
PY=${PY:-python}
B=gsea_plus/model/bundled
OLD=$W/old_bundle  # the issue-3 bundle, from git
mkdir -p "$OLD"
for f in model.safetensors config.json vocab.txt neighbors.safetensors; do
  git show 20187e5:gsea_plus/model/bundled/$f > "$OLD/$f"
done

gsea-plus model corpus ../shared/data/training -o "$W/corpus.gmt.gz"

# EASE variants (about 6-8 min each)
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 3000 --k 2048 --out "$W/ease_l3000"
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 1000 --out "$W/ease_l1000"
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 10000 --out "$W/ease_l10000"
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 3000 --dropout-ratio 0.5 --out "$W/ease_l3000_d05"
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 3000 --source-power 0.5 --out "$W/ease_l3000_so05"
$PY benchmarks/model_ease_fit.py --corpus "$W/corpus.gmt.gz" --lam 3000 --size-power 0.5 --out "$W/ease_l3000_sz05"

S="$PY benchmarks/model_search.py --corpus $W/corpus.gmt.gz --max-terms 300 --repeats 2"

# s1: EASE pruning, autoencoder + EASE + cosine grid (validation only)
$S --group val --part ae=autoencoder:$OLD --part nb=neighbors:$OLD/neighbors.safetensors \
  --part cos=cooc:cosine --part raw=cooc:none --part pop=popularity \
  --part e256=ease:$W/ease_l3000:256 --part e512=ease:$W/ease_l3000:512 \
  --part e1024=ease:$W/ease_l3000:1024 --part e2048=ease:$W/ease_l3000:2048 \
  --method ae=ae --method nb=nb --method cos=cos --method raw=raw --method e256=e256 \
  --method e512=e512 --method e1024=e1024 --method e2048=e2048 --method bundled=ae:0.85+nb:0.15 \
  --grid ae,e1024,cos --grid e1024,pop --step 0.1 --out benchmarks/out/s1_val.tsv

# s2: EASE variants, band, set-kNN, two-hop (validation only)
M=""
for e in e3k e1k e10k ed05 eso05 esz05; do
  M="$M --method $e=$e --method ae6_${e}3_cos1=ae:0.6+$e:0.3+cos:0.1 --method ae7_${e}3=ae:0.7+$e:0.3"
done
$S --group val --part ae=autoencoder:$OLD --part cos=cooc:cosine \
  --part e3k=ease:$W/ease_l3000:1024 --part e1k=ease:$W/ease_l1000:1024 \
  --part e10k=ease:$W/ease_l10000:1024 --part ed05=ease:$W/ease_l3000_d05:1024 \
  --part eso05=ease:$W/ease_l3000_so05:1024 --part esz05=ease:$W/ease_l3000_sz05:1024 \
  --part bandf=band: --part bandc=band:coarse --part knn1=setknn:0.5,200,2 \
  --part knn2=setknn:1.0,50,1 --part two=twohop:$W/ease_l3000:256 $M \
  --method ae=ae --method cos=cos --method bandf=bandf --method bandc=bandc --method knn1=knn1 \
  --method knn2=knn2 --method two=two --method base=ae:0.6+e3k:0.3+cos:0.1 \
  --method base_bandf05=ae:0.57+e3k:0.28+cos:0.1+bandf:0.05 \
  --method base_bandf10=ae:0.54+e3k:0.27+cos:0.09+bandf:0.1 \
  --method base_bandc05=ae:0.57+e3k:0.28+cos:0.1+bandc:0.05 \
  --method base_knn1_10=ae:0.54+e3k:0.27+cos:0.09+knn1:0.1 \
  --method base_knn1_20=ae:0.48+e3k:0.24+cos:0.08+knn1:0.2 \
  --method base_knn2_10=ae:0.54+e3k:0.27+cos:0.09+knn2:0.1 \
  --method base_knn2_20=ae:0.48+e3k:0.24+cos:0.08+knn2:0.2 \
  --method base_two10=ae:0.54+e3k:0.27+cos:0.09+two:0.1 --out benchmarks/out/s2_val.tsv

# s3 + s5: set-kNN options alpha,top,power[,idf,beta,gamma] (validation only)
P=""; M=""
for spec in 0.5,100,2 0.5,200,2 0.5,500,2 0.5,2000,2 0.5,200,3 0.5,500,3 0.5,500,4 0.75,200,2 \
    0.75,500,2 0.75,500,3 1.0,200,2 1.0,500,2 0.5,200,2,1 0.5,500,3,1 0.5,500,4,1,0,0 \
    0.5,500,4,1,0.25,0 0.5,500,4,1,0.5,0 0.5,500,4,1,0,0.25 0.5,500,4,1,0,0.5 \
    0.5,500,4,1,0.25,0.25 0.4,1000,4,1,0,0 0.5,1000,6,1,0.25,0.25; do
  n=k$(echo $spec | tr ',.' '_p'); P="$P --part $n=setknn:$spec"; M="$M --method $n=$n"
done
$S --group val $P $M --out benchmarks/out/s3_val.tsv

# s4: set-kNN x autoencoder x EASE grid, and four-part blends (validation only)
K=setknn:0.5,500,4,1
$S --group val --part kn=$K --part ae=autoencoder:$OLD --part esz=ease:$W/ease_l3000_sz05:1024 \
  --part eso=ease:$W/ease_l3000_so05:1024 --part cos=cooc:cosine --part bandf=band: \
  --grid kn,ae,esz --step 0.1 \
  --method kae_cos=kn:0.5+ae:0.3+esz:0.1+cos:0.1 --method kae_eso=kn:0.5+ae:0.3+eso:0.2 \
  --method kae_b05=kn:0.5+ae:0.3+esz:0.15+bandf:0.05 --method kae_b10=kn:0.5+ae:0.25+esz:0.15+bandf:0.1 \
  --out benchmarks/out/s4_val.tsv

# s6: the blend grid (validation only): set-kNN x autoencoder x EASE(k=256) x band
M=""
for k in 0.4 0.5 0.6 0.7; do for a in 0.2 0.3 0.4; do for e in 0 0.1 0.2; do for b in 0 0.05 0.1 0.15; do
  M="$M --method kn${k}_ae${a}_e${e}_b${b}=kn:$k+ae:$a+e256:$e+band:$b"
done; done; done; done
$S --group val --part kn=setknn:0.5,500,4,1,0.25,0 --part ae=autoencoder:$OLD \
  --part e128=ease:$W/ease_l3000_sz05:128 --part e256=ease:$W/ease_l3000_sz05:256 \
  --part e512=ease:$W/ease_l3000_sz05:512 --part e1024=ease:$W/ease_l3000_sz05:1024 \
  --part band=band: $M --method knn=kn:1 --method e128=kn:0.6+ae:0.3+e128:0.1+band:0.1 \
  --method e512=kn:0.6+ae:0.3+e512:0.1+band:0.1 --method e1024=kn:0.6+ae:0.3+e1024:0.1+band:0.1 \
  --out benchmarks/out/s6_val.tsv

# s7: the variants table (validation and benchmark libraries; benchmarks only reported)
$S --group val --group bench \
 --part raw=cooc:none --part cos=cooc:cosine --part nb=neighbors:$OLD/neighbors.safetensors --part ae=autoencoder:$OLD \
 --part e1k=ease:$W/ease_l1000:1024 --part e3k=ease:$W/ease_l3000:1024 --part e10k=ease:$W/ease_l10000:1024 \
 --part ed05=ease:$W/ease_l3000_d05:1024 --part eso05=ease:$W/ease_l3000_so05:1024 --part esz05=ease:$W/ease_l3000_sz05:1024 \
 --part e128=ease:$W/ease_l3000_sz05:128 --part band=band: \
 --part k1=setknn:0.5,200,2 --part k2=setknn:0.5,500,4,1 --part kf=setknn:0.5,500,4,1,0.25,0 \
 --method "01 co-occurrence (mean count)=raw" --method "02 co-occurrence, cosine=cos" --method "03 pruned cosine co-occurrence, k=256=nb" \
 --method "04 AE softmax p0.5 15 ep (issue 3)=ae" --method "05 issue-3 bundle: AE 0.85 + pruned cosine 0.15=ae:0.85+nb:0.15" \
 --method "06 EASE lambda 1000, k=1024=e1k" --method "07 EASE lambda 3000, k=1024=e3k" --method "08 EASE lambda 10000, k=1024=e10k" \
 --method "09 EASE lambda 3000, dropout ratio 0.5 (EDLAE), k=1024=ed05" --method "10 EASE lambda 3000, sources^-0.5, k=1024=eso05" \
 --method "11 EASE lambda 3000, size^-0.5, k=1024=esz05" --method "12 EASE lambda 3000, size^-0.5, k=128=e128" \
 --method "13 AE 0.6 + EASE 0.3 + cosine 0.1=ae:0.6+e3k:0.3+cos:0.1" --method "14 AE 0.7 + EASE size^-0.5 0.3=ae:0.7+esz05:0.3" \
 --method "15 cytogenetic band alone=band" --method "16 set-kNN alpha 0.5, top 200, power 2=k1" --method "17 set-kNN alpha 0.5, top 500, power 4, IDF=k2" \
 --method "18 set-kNN alpha 0.5, top 500, power 4, IDF, beta 0.25=kf" --method "19 set-kNN 0.5 + AE 0.5=kf:0.5+ae:0.5" \
 --method "20 set-kNN 0.4 + AE 0.4 + EASE(k=128) 0.1=kf:0.4+ae:0.4+e128:0.1" \
 --method "21 shipped: set-kNN 0.4 + AE 0.4 + EASE(k=128) 0.1 + band 0.1=kf:0.4+ae:0.4+e128:0.1+band:0.1" \
 --method "22 same, band 0.15=kf:0.4+ae:0.4+e128:0.1+band:0.15" \
 --out benchmarks/out/s7_variants.tsv --summary benchmarks/results/model_search_variants.tsv \
 --markdown benchmarks/results/model_search_variants.md

# the near-copy check on the s7 tasks
$PY benchmarks/model_overlap.py --corpus "$W/corpus.gmt.gz" --per-task benchmarks/out/s7_variants.tsv \
  --out benchmarks/out/overlap_terms.tsv > benchmarks/results/model_overlap.txt
