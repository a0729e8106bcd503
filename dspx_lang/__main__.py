"""`python -m dspx_lang` is `dspxc`."""

from dspx_lang.cli import main

raise SystemExit(main())
