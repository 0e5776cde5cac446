"""`python -m service` runs the netreason CLI."""

from service.cli import main

main()
