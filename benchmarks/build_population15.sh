#!/bin/bash
# Build the 15x15 population (issue 16, recipe 3) for one group, seed after seed, keeping each
# finished agent in benchmarks/populations so that a sitting's end loses at most one agent.
# Usage: benchmarks/build_population15.sh GROUP [SEEDS...]   (one core; run one group per core)
#   e.g. benchmarks/build_population15.sh corner & benchmarks/build_population15.sh uniform &
set -u
cd "$(dirname "$0")/.."
group=${1:?usage: benchmarks/build_population15.sh GROUP [SEEDS...]}
shift
seeds=${*:-0 1 2 3 4 5 6 7 8 9}
python=${PYTHON:-.venv/bin/python}
"$python" benchmarks/population_store.py restore
for seed in $seeds; do
  "$python" benchmarks/audit_population.py --scale 15 --groups "$group" --seeds "$seed" --workers 1
  "$python" benchmarks/population_store.py save
done
