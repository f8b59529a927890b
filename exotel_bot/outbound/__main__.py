"""`python -m exotel_bot.outbound +919876543210 --context '{...}'`: see cli.py."""

import sys

from exotel_bot.outbound.cli import main

sys.exit(main())
