"""napari-aware, Qt-free: a result as layer ``data``, what a run does to a viewer's layers
(``results``: write, update, merge, the edited-by-hand rule, export of a layer), the Review
dock's next image in the previous one's layers (``reuse``) and ``corrections`` on a labels
layer (kept scores, tracked edits, one-undo gestures). The docks add and remove layers only
through these modules.

May import ``core`` and napari (inside functions); never Qt (``qt`` is the only Qt user).
"""
