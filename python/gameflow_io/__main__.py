"""python3 -m gameflow_io to-npz RUN_DIR OUT.npz | from-npz RUN_DIR IN.npz OUT_STATE.json

to-npz: the run's final state as a PyTorch-style state dict (numpy.savez).
from-npz: a state dict (e.g. from PyTorch, saved with numpy.savez) as a GameFlow state file for the
run's architecture, ready for `gameflow train --init` or `gameflow field --state`.
"""
import json
import sys

from . import read_run, state_to_state_dict, state_dict_to_state, save_state_dict, load_state_dict


def main(argv):
    if len(argv) < 3 or argv[0] not in ("to-npz", "from-npz"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run = read_run(argv[1])
    if run.architecture is None:
        print("gameflow_io: the run has no architecture (an MLP GAN run): nothing to convert", file=sys.stderr)
        return 1
    shape = run.summary["sample_shape"]
    if argv[0] == "to-npz":
        save_state_dict(argv[2], state_to_state_dict(run.state, run.architecture, shape, run.layout))
    else:
        x = state_dict_to_state(load_state_dict(argv[2]), run.architecture, shape, run.layout)
        with open(argv[3], "w") as f:
            json.dump({"networks": run.networks, "parameters": int(x.size), "state": x.tolist()}, f)
    return 0


sys.exit(main(sys.argv[1:]))
