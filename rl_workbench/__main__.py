"""``python -m rl_workbench`` is ``rlwb``."""

from rl_workbench.cli import main

main()
