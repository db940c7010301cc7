"""Learning a new last classifier (a head) from labels a person corrected (issue 32).

The head is a softmax regression on the network's own features, the input of each family's
final 1x1 classifier: :mod:`.features` extracts them from an image as a run preprocesses it and
writes a learned model file. A floor above the run: this package may import models, run, files,
edits and batch, and none of them imports it.
"""
