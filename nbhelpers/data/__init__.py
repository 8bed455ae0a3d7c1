"""Data: `DataBundle` and its splits, the on-device loader and `fit`'s data adapter, the course's datasets."""

from .bundle import DataBundle, DataIntegrityError, DataNotFoundError
from .datasets import FASHION_CLASSES, FASHION_MEAN_STD, data_report, fashion_mnist, mnist1d, tabular
from .loader import DataConversionWarning, DeviceLoader, UnshardedDataWarning

__all__ = ["FASHION_CLASSES", "FASHION_MEAN_STD", "DataBundle", "DataConversionWarning", "DataIntegrityError",
           "DataNotFoundError", "DeviceLoader", "UnshardedDataWarning", "data_report", "fashion_mnist", "mnist1d",
           "tabular"]
