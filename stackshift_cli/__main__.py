"""Entry point for `python -m stackshift_cli`."""

from stackshift_cli.cli import main

if __name__ == "__main__":
    main()
