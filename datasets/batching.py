"""Mini-batches: shuffled with an explicit Generator, optionally augmented, normalized to float32 NCHW.

Memory stays bounded: for an on-disk (h5py) image array only the current read block (about READ_BYTES of
uint8 images, read chunk by chunk) and one float32 batch exist at a time; in-memory arrays are indexed
batch by batch. Random draws happen as batches are consumed: the permutation at the first batch, then the
augmentation of each batch.
"""
import numpy as np

READ_BYTES = 1 << 26     # uint8 bytes fetched per read from an on-disk (h5py) image array


def crop_flip(images, rng, pad=4):
    """CIFAR-style augmentation of a uint8 batch (B, C, H, W): zero-pad by `pad` pixels on each side, take a
    random H x W crop, and mirror left-right with probability 1/2; all draws from `rng`.

    The padding is black pixels (0) before normalization, as in the reference recipe (torchvision
    RandomCrop(32, padding=4) then Normalize), so padded pixels become -mean/std after normalization.
    Draw order: B vertical offsets, B horizontal offsets, B flip coins. Returns a new uint8 array.
    """
    b, c, h, w = images.shape
    padded = np.zeros((b, c, h + 2 * pad, w + 2 * pad), np.uint8)
    padded[:, :, pad:pad + h, pad:pad + w] = images
    dy = rng.integers(0, 2 * pad + 1, b)
    dx = rng.integers(0, 2 * pad + 1, b)
    flip = rng.random(b) < 0.5
    out = np.empty_like(images)
    for i in range(b):
        window = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = window[:, :, ::-1] if flip[i] else window
    return out


def normalize(images, mean, std):
    """float32 (B, C, H, W) = (images / 255 - mean) / std per channel, for uint8 images (B, C, H, W).

    Computed as images * (1 / (255 std)) - mean / std in float32; agrees with the float64 formula to ~1e-6.
    """
    std = np.asarray(std, np.float64)
    scale = (1 / (255 * std)).astype(np.float32)[:, None, None]
    offset = (-np.asarray(mean, np.float64) / std).astype(np.float32)[:, None, None]
    x = images.astype(np.float32)
    x *= scale
    x += offset
    return x


def read_rows(images, index):
    """images[index] for an h5py dataset (N, ...) and unique indices in any order, reading each touched HDF5
    chunk once.

    h5py's own fancy indexing wants increasing indices and builds one selection per index, ~10x slower here
    for small images; slicing whole chunks and picking rows in memory reads at most one extra chunk
    (~256 KiB) per row and is one buffer.
    """
    index = np.asarray(index)
    order = np.argsort(index, kind="stable")
    ascending = index[order]
    per_chunk = images.chunks[0] if images.chunks else len(images)
    chunk_of = ascending // per_chunk
    out = np.empty((len(index), *images.shape[1:]), images.dtype)
    starts = np.flatnonzero(np.r_[True, chunk_of[1:] != chunk_of[:-1]])
    for first, last in zip(starts, np.r_[starts[1:], len(index)]):
        offset = chunk_of[first] * per_chunk
        slab = images[offset:offset + per_chunk]
        out[order[first:last]] = slab[ascending[first:last] - offset]
    return out


def batches(dataset, batch_size, rng, shuffle=True, augment=False, drop_last=False):
    """Iterate over `dataset` once in mini-batches.

    dataset: a `Dataset` (images uint8 (N, C, H, W) array or h5py view, labels int64 (N,), mean, std).
    batch_size: images per batch; the last batch is smaller unless `drop_last`.
    rng: numpy.random.Generator for the shuffle (one permutation of N, drawn first) and the augmentation.
    augment: random crop with 4-pixel zero padding and horizontal flip (`crop_flip`).
    Yields (x float32 (B, C, H, W) normalized with dataset.mean/std, y int64 (B,)).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if len(dataset.mean) != dataset.images.shape[1] or len(dataset.std) != dataset.images.shape[1]:
        raise ValueError(f"mean/std have {len(dataset.mean)}/{len(dataset.std)} channels, "
                         f"images have {dataset.images.shape[1]}")
    return _iterate(dataset, int(batch_size), rng, shuffle, augment, drop_last)


def _iterate(dataset, batch_size, rng, shuffle, augment, drop_last):
    images, labels = dataset.images, dataset.labels
    n = len(labels)
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    on_disk = not isinstance(images, np.ndarray)
    image_bytes = int(np.prod(images.shape[1:]))
    per_read = batch_size * max(1, READ_BYTES // (batch_size * image_bytes)) if on_disk else batch_size
    for block_start in range(0, stop, per_read):
        index = order[block_start:min(stop, block_start + per_read)]
        if on_disk:
            block = read_rows(images, index)
        for start in range(0, len(index), batch_size):
            batch_index = index[start:start + batch_size]
            x = block[start:start + batch_size] if on_disk else images[batch_index]
            if augment:
                x = crop_flip(x, rng)
            yield normalize(x, dataset.mean, dataset.std), labels[batch_index]
