"""The sha1 of each pretrained weights file of GluonCV's zoo, vendored from gluoncv 0.10.5's
``gluoncv/model_zoo/model_store.py`` (``_model_sha1``) so that downloading and checking weights
never imports gluoncv. A test compares this table with gluoncv's where gluoncv is installed.

The file is ``{name}-{sha1[:8]}.params`` inside ``{repo}gluon/models/{name}-{sha1[:8]}.zip``.
"""

ZOO_SHA1: dict[str, str] = {
    "fcn_resnet50_ade": "3479525af7bdbf345e74e150aaae2e48174c0c5f",
    "fcn_resnet101_ade": "d544440a35586f662ed1a5405ab9aa89cd750558",
    "psp_resnet50_ade": "3f220f537400dfa607c3d041ed3b172db39b0b01",
    "psp_resnet101_ade": "240a4758b506447faf7c55cd7a7837d66f5039a6",
    "deeplab_resnet50_ade": "c7789b237adc7253405bee57c84d53b15db45942",
    "deeplab_resnet101_ade": "bf1584dfcec12063eff3075ee643e181c0f6d443",
    "deeplab_resnest50_ade": "a8312db6e30a464151580f2bda83479786455724",
    "deeplab_resnest101_ade": "6d05c630fb7acb38615f7f4d360fb90f47b25042",
    "deeplab_resnest200_ade": "9134a6f7d1399b549d5803d8faed3dfc74efc0d8",
    "deeplab_resnest269_ade": "d45b33dedf4cca13b8147213c5360e30f93685bd",
    "fcn_resnet101_voc": "12c2b9b3be7d4e133e52477150a9b3e616626a82",
    "psp_resnet101_voc": "2c2f4e1c2b11461b52598a4b2038bccbcfc166eb",
    "deeplab_resnet101_voc": "311ed22c63f3ac28b5f1e1663c458f26600e62da",
    "deeplab_resnet152_voc": "d35bea8817935d1ab310ef1e6dd06bb18c2d5f0d",
    "fcn_resnet101_coco": "766cdf9cc3e5b980b141643f054db5b48863f634",
    "psp_resnet101_coco": "09f89cad0e107cb2bffdb1b07706ba31798096f2",
    "deeplab_resnet101_coco": "ed817f76086abb4c3404af62ec1b5487c67642b7",
    "deeplab_resnet152_coco": "83247aaeeded6988790cd93ac93151514094846f",
    "psp_resnet101_citys": "d0e8603120ab02118a8973d52a26b8296d1b4078",
    "deeplab_resnet50_citys": "cf6a7bb3d55360933de647a8505f7936003902a4",
    "deeplab_resnet101_citys": "eb8477a91efc244c85b364c0736664078aaf0e65",
    "deeplab_v3b_plus_wideresnet_citys": "ef2bb40ad8f8f59f451969b2fabe4e548394e80a",
    "icnet_resnet50_citys": "909742b45d5a3844d6000248aa92fef0ae23a0f0",
    "fastscnn_citys": "95aad0b699ae17c67caa44b3ead4b23474e98954",
    "danet_resnet50_citys": "143e1f1c1c1f2d3a3416887e088ebfdd4e1e2345",
    "danet_resnet101_citys": "6ead3d099f7a320846bddb51148c3fe3b5ade5c2",
}
