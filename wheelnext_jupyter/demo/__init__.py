"""The demo: a local variant index built on the spot, served on 127.0.0.1, and a notebook.

`wheelnext-jupyter demo` builds the index (`index_builder.build_demo_index`), serves it
(`server.DemoServer`) and starts JupyterLab on the demo notebook with `WHEELNEXT_DEMO_INDEX` set.
"""
