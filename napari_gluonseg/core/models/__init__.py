"""The models: every fact about each model and family in one place (``card``), GluonCV's zoo
looked up by name (``registry``), where weights come from (``weights``, the ``.params`` format
``params_file``, ``untrained`` test weights, the ``cache``), label schemes over a model's
classes (``scheme``), and the engines that run a network (``engines``, with the ONNX graphs
``onnx_build`` makes and ``padding`` to any size).

May import: ``core.errors``, ``core.events``, ``core.checks``.
"""
