"""`python -m wuye` is the `wuye` command."""

from wuye.platform.cli import main

main()
