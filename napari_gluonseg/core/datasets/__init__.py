"""Training data in the formats trainers and annotation tools read (COCO, Pascal VOC,
Cityscapes, CVAT masks, YOLO segmentation), written from results, and datasets of those
formats opened to correct and saved back in their own format."""
