"""`envgen lock`: hashed, per-platform locks in standard formats, CPU and GPU variants side by side.

* `pip.py`     — `uv pip compile` per plan and platform → PEP 751 `pylock.*.toml` + hashed
                 `requirements.*.txt`
* `conda.py`   — in-process py-rattler solve → conda-lock's unified `conda-lock.*.yml`
* `lockset.py` — the lock directory and its index `envgen-lock.toml`: making, writing,
                 `--check`, and choosing the variant that fits a machine

Every file can be installed with plain uv, pip or conda-lock; envgen is needed only to make them.
"""
