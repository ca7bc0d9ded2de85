"""Write verified wheels into a target environment: all or nothing, pip-compatible.

`target` describes the environment, `wheelfile` checks a wheel, `writer` writes one,
`transaction` installs a plan atomically (journal, backup, lock), `uninstall` finds owned files,
`externally_managed` applies PEP 668 and `restart` tells a live kernel what it must reload;
`errors` holds the installer's base error and `cores` the number of unpacking threads, both
importable without the installer.
"""
