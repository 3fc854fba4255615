from drsctl.cli import main

raise SystemExit(main())
