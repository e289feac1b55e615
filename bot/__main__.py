"""Allow ``python -m bot`` as an alias of the ``coregroup`` command."""

from bot.cli import main

if __name__ == "__main__":
    main()
