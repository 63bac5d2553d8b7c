"""``human3d serve``: a web page on the user's own machine for photos and videos of people.

:mod:`~human3d.webapp.uploads` checks what is dropped on the page, :mod:`~human3d.webapp.models` keeps the
models (built once, one job at a time each), :mod:`~human3d.webapp.jobs` runs a photo or a video through
them, :mod:`~human3d.webapp.page` lays out the page (Gradio) and :mod:`~human3d.webapp.server` serves it.
"""
