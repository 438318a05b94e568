"""``python -m tradekit``: the same as the ``tradekit`` command."""

from tradekit.cli.main import main

main()
