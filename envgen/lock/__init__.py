"""`envgen lock`: hashed, per-platform locks in standard formats, CPU and GPU variants side by side.

* `pip.py`     — `uv pip compile` per plan and platform → PEP 751 `pylock.*.toml` + hashed
                 `requirements.*.txt`
* `conda.py`   — in-process py-rattler solve → conda-lock's unified `conda-lock.*.yml`
* `index.py`     — the set's index `envgen-lock.toml`: the team's request, its machine
                   (`machine.py`), each variant and lock, every file's sha256
* `make.py`      — making a set (unchanged locks kept as they are) and writing it all or nothing
* `integrity.py` — every lock file is what `envgen lock` wrote
* `fresh.py`     — is the set current? re-planned from the index alone, changes named
* `choose.py`    — the variant that fits a machine, said in one line
* `team.py`      — the stage's policy: lock, check, use (create's --frozen/--locked/default)

Every file can be installed with plain uv, pip or conda-lock; envgen is needed only to make them.
"""
