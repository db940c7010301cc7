"""The Qt-free, napari-free core: everything a script, the command line and the docks share.

Floors, each importing only those below it (``tests/test_architecture.py`` checks it):

- ``errors``, ``events``, ``checks``, ``atomic``, ``provenance``: the package's errors, progress
  events, argument checks, whole-or-nothing files, the keys of a result's provenance record;
- ``models``: the zoo, weights files, label schemes, and the engines that run a network;
- ``run``: one image (or stack) segmented: options, plan, windows, pre/postprocessing, result;
- ``files``: results and images on disk, written whole or not at all;
- ``edits``: corrections, merges and uncertainty on labels a person works on;
- ``batch``: folders of images, here or on a Dask cluster, and their review.
"""
