#!/usr/bin/env bash
# Runs scripts/sweep-slurm.sbatch once under a single-node Slurm on this machine (Debian's
# slurm-wlm with munge, as root), merges the shards and compares the result with the unsharded
# sweep byte for byte. It configures and starts munged, slurmctld and slurmd itself.
#   scripts/slurm-single-node.sh [SPEC] [N]     (default: Tests/sweep/spec.json, 3 shards)
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=${1:-Tests/sweep/spec.json}
N=${2:-3}
G=$(pwd)/.build/debug/gameflow
[ -x "$G" ] || swift build
export DEBIAN_FRONTEND=noninteractive
command -v slurmctld >/dev/null || apt-get install -y slurm-wlm munge
host=$(hostname -s)
cpus=$(nproc)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=gameflow
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
[ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || munged --force
pkill -x slurmctld 2>/dev/null || true; pkill -x slurmd 2>/dev/null || true; sleep 1
slurmctld -c
slurmd -c
for _ in $(seq 1 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo
OUT=$(mktemp -d /tmp/gameflow-slurm.XXXX)
chmod 777 "$OUT"
job=$(N=$N SPEC=$(pwd)/$SPEC OUT=$OUT GAMEFLOW=$G sbatch --parsable --array=1-"$N" --chdir="$(pwd)" \
      --output="$OUT/task-%a.log" scripts/sweep-slurm.sbatch)
echo "submitted array job $job ($N tasks)"
while squeue -h -j "$job" 2>/dev/null | grep -q .; do sleep 2; done
shards=(); for i in $(seq 1 "$N"); do shards+=("$OUT/shard-$i"); done
"$G" sweep merge "${shards[@]}" --output "$OUT/merged"
"$G" sweep "$SPEC" --output "$OUT/unsharded" --quiet
if cmp -s "$OUT/merged/results.csv" "$OUT/unsharded/results.csv"; then
  echo "slurm: $N array tasks + merge = unsharded sweep, byte for byte ($(($(wc -l < "$OUT/merged/results.csv") - 1)) cells; $OUT)"
else
  echo "slurm: FAIL: merged results differ ($OUT)"; exit 1
fi
