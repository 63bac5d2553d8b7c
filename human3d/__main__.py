from human3d.cli import main

raise SystemExit(main())
