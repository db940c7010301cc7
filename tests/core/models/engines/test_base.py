"""The engines' memory of loaded networks stays bounded (by count and by the pixels of the
static buffers they hold)."""

from napari_gluonseg.core.models.engines import base as engines


def _load(value):
    def load():
        yield from ()
        return value

    return load


def test_networks_kept_in_memory_are_bounded_by_their_pixels(monkeypatch):
    monkeypatch.setattr(engines, "_cache", type(engines._cache)())

    for key, pixels in (("a", 1_000_000), ("b", 1_000_000), ("c", 1_000_000)):
        for _ in engines.iter_cached(key, _load(key), pixels):
            pass
    assert list(engines._cache) == ["b", "c"]  # 3 MP would exceed the budget: "a" went
    events = engines.iter_cached("d", _load("d"), 0)  # sessions hold no static buffers
    for _ in events:
        pass
    assert list(engines._cache) == ["b", "c", "d"]
