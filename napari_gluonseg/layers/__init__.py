"""napari-aware, Qt-free: a result as layer ``data``, what a run does to a viewer's layers
(``results``: write, update, merge; by the edited-by-hand rule of ``overwrite_rule``), which
layers are the plugin's (``plugin_layers``), ``export`` of a layer, the Review dock's next
image in the previous one's layers (``reuse``), the scores a run kept for a layer
(``kept_scores``), the edits a person made (``hand_edits``) and one-undo ``corrections`` on
a labels layer (the rules of ``core.edits`` on its arrays). The docks add and remove layers
only through these modules.

May import ``core`` and napari (inside functions); never Qt (``qt`` is the only Qt user).
"""
