"""Image folders: `[prefix/]split/class/*.jpg|jpeg|png`, as a directory or a .tar / .tar.gz archive.

This serves ImageNet class subsets and the CIFAR-10 JPEG copy (`cifar10-jpeg`). Archives are read straight
from the file, never unpacked (see archives.py for the member checks). Two passes: the first lists the
class folders and files, the second decodes the chosen files with Pillow, as RGB. From an archive, the
first pass also keeps the encoded bytes of the split's images up to PREFETCH_BYTES, so a split of modest
size (all of CIFAR-10) is read in one pass; only files beyond that budget are fetched in a second pass.

Variant options (all recorded in the cache and in meta):
    source         directory or archive; relative paths are taken under the data root
    classes        None (all), k (k classes drawn without replacement from the sorted class names with
                   numpy.random.default_rng(seed)), or a list of class names
    seed           for drawing k classes (default 0); the same seed gives train and val the same classes
    size           output side in pixels: the shorter side is resized to `size` (bicubic) and the centre
                   size x size square kept; None keeps the native size (all images must then agree)
    max_per_class  keep only the first m files of each class, by file name
Order: by class (sorted names), then by file name. Labels index `classes`, the chosen names sorted.
"""
import io
import os
import stat
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from .archives import scan
from .errors import DataError, SourceMissing
from .paths import describe_root
from .sources import file_sha256

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
FLUSH_IMAGES = 2048      # decoded images buffered before a write to the cache
PREFETCH_BYTES = 256 << 20   # encoded image bytes kept from the listing pass of an archive
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def is_archive(path):
    return path.is_file()


def in_split(name, split):
    """True for an image file `[prefix/]split/class/file`."""
    parts = PurePosixPath(name).parts
    return len(parts) >= 3 and parts[-3] == split and name.lower().endswith(IMAGE_SUFFIXES)


def listing(source, split):
    """(names, prefetched): relative POSIX names in `source`, files as 'a/b.jpg' and folders as 'a/', and
    {name: bytes} of the split's images read on the way (archives only, up to PREFETCH_BYTES).
    Archives are checked member by member."""
    if is_archive(source):
        names, prefetched, budget = [], {}, [PREFETCH_BYTES]
        for name, data in scan(source, wanted=lambda name: budget[0] > 0 and in_split(name, split)):
            names.append(name)
            if data is not None:
                prefetched[name] = data
                budget[0] -= len(data)
        return names, prefetched
    names = []
    for folder, dirs, files in os.walk(source):
        rel = PurePosixPath(Path(folder).relative_to(source).as_posix())
        names += [f"{rel / d}/" for d in dirs] + [str(rel / f) for f in files]
    return [name[2:] if name.startswith("./") else name for name in names], {}


def read_files(source, position, prefetched):
    """Yield (name, bytes) for the names in `position` ({name: output row}): first those in `prefetched`,
    by row, then the others in archive order (a folder: by row)."""
    for name in sorted(position.keys() & prefetched.keys(), key=position.get):
        yield name, prefetched[name]
    wanted = position.keys() - prefetched.keys()
    if not wanted:
        return
    if is_archive(source):
        for name, data in scan(source, wanted=wanted.__contains__):
            if data is not None:
                yield name, data
    else:
        for name in sorted(wanted, key=position.get):
            yield name, read_regular(source / name)


def read_regular(path):
    """The bytes of `path`, which must be a regular file or a link to one: a FIFO named like an image would block
    the reader forever, a device would never end. DataError otherwise (also for a broken link)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataError(f"{path}: not a regular file (a FIFO, device or socket named like an image)")
        return path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read it ({err})") from err


def index_split(source, names, split):
    """{class name: sorted file names} for `split`; SourceMissing if the split is absent, DataError for an
    empty class folder."""
    classes = {}
    for name in names:
        parts = PurePosixPath(name).parts
        if name.endswith("/") and len(parts) >= 2 and parts[-2] == split:
            classes.setdefault(parts[-1], [])
        elif in_split(name, split):
            classes.setdefault(parts[-2], []).append(name)
    if not classes:
        raise SourceMissing(f"{source}: no class folders under a '{split}' folder "
                        f"(expected [prefix/]{split}/<class>/*.jpg|jpeg|png)")
    empty = sorted(c for c, files in classes.items() if not files)
    if empty:
        raise DataError(f"{source}: class folder(s) {empty} in split '{split}' hold no .jpg/.jpeg/.png images")
    return {c: sorted(set(files), key=lambda n: (PurePosixPath(n).name, n)) for c, files in sorted(classes.items())}


def choose_classes(available, classes, seed, source):
    """Sorted class names to keep: all, k drawn from the seed, or the given names."""
    available = sorted(available)
    if classes is None:
        return available
    if _positive_int(classes):
        if not 1 <= classes <= len(available):
            raise ValueError(f"classes={classes}: {source} has {len(available)} classes, expected 1..{len(available)}")
        picked = np.random.default_rng(seed).choice(len(available), int(classes), replace=False)
        return sorted(available[i] for i in picked)
    unknown = sorted(set(classes) - set(available))
    if unknown:
        raise ValueError(f"classes {unknown} not in {source}; available: {available[:20]}"
                         f"{' ...' if len(available) > 20 else ''}")
    return sorted(set(classes))


def decode(data, size, where):
    """uint8 (3, H, W) RGB image from encoded bytes; resized and centre-cropped to size x size if size is set."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            if size is not None and img.size != (size, size):
                scale = size / min(img.size)
                w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
                img = img.resize((w, h), Image.BICUBIC)
                left, top = (w - size) // 2, (h - size) // 2
                img = img.crop((left, top, left + size, top + size))
            return np.asarray(img, np.uint8).transpose(2, 0, 1)
    except Exception as err:    # Pillow's plugins raise many types on malformed data: OSError, SyntaxError, ...
        raise DataError(f"{where}: not a readable image ({type(err).__name__}: {err})") from err


def _positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _names(value):
    return isinstance(value, (list, tuple, set)) and len(value) > 0 and all(isinstance(v, str) for v in value)


class ImageFolder:
    """Specification of an image-folder dataset; `IMAGEFOLDER` (any source) and `CIFAR10_JPEG` below."""

    splits = ("train", "val", "test")

    def __init__(self, name, default_source=None, default_size=None, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 instead=None):
        """instead: what to do when the default source is missing, besides copying it (for the message)."""
        self.name, self.default_source, self.default_size = name, default_source, default_size
        self.instead = instead
        self.mean, self.std = mean, std

    def variant(self, source=None, classes=None, seed=0, size="default", max_per_class=None):
        if source is None and self.default_source is None:
            raise ValueError(f"{self.name} needs source=PATH: a folder or .tar/.tar.gz of split/class/*.jpg|png")
        size = self.default_size if size == "default" else size
        for key, value in (("size", size), ("max_per_class", max_per_class), ("classes", classes)):
            if not (value is None or _positive_int(value) or key == "classes" and _names(value)):
                expected = "a positive integer k, a list of class names or None" if key == "classes" else \
                    "a positive integer or None"
                raise ValueError(f"{key} must be {expected}, got {value!r}")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if _names(classes):
            classes = sorted(set(classes))
        classes, size, max_per_class = (int(v) if _positive_int(v) else v for v in (classes, size, max_per_class))
        variant = dict(classes=classes, seed=seed, size=size, max_per_class=max_per_class)
        if source is not None:
            variant["source"] = str(source)
        return {k: v for k, v in variant.items() if v is not None}

    def resolve(self, root, variant):
        """The source folder or archive; SourceMissing (three lines: image folders have no automatic download) if
        it is absent."""
        source = Path(variant.get("source", self.default_source)).expanduser()
        source = source if source.is_absolute() else Path(root) / source
        if not source.exists():
            if "source" in variant:
                where = f"the given source (relative paths are taken under the {describe_root(root)})"
                how = "image folders have no automatic download: build the folder or archive from your copy"
            else:
                where = f"the default source, under the {describe_root(root)}"
                how = f"{self.name} has no official download: copy {source.name} from a machine that has it"
                how += f", {self.instead}" if self.instead else ""
            raise SourceMissing(f"{self.name}: {source} not found ({where})\n"
                                f"put the folder or .tar/.tar.gz of [prefix/]split/class/*.jpg|png at {source}\n"
                                f"to fetch it: {how}")
        return source

    def builder(self, split, root, variant, download=None, strict=False, opener=None):
        def build(sink):
            source = self.resolve(root, variant)
            names, prefetched = listing(source, split)
            per_class = index_split(source, names, split)
            chosen = choose_classes(per_class, variant.get("classes"), variant.get("seed", 0), source)
            m = variant.get("max_per_class")
            position, labels = {}, []
            for label, cls in enumerate(chosen):
                for name in per_class[cls][:m]:
                    position[name] = len(labels)
                    labels.append(label)
            size = variant.get("size")
            self.fill(sink, source, position, prefetched, np.array(labels, np.int64), size)
            sources = {source.name: file_sha256(source)} if is_archive(source) else {}
            meta = dict(source=str(source), chosen_classes=chosen, available_classes=len(per_class),
                        per_class=[int(c) for c in np.bincount(labels, minlength=len(chosen))])
            return dict(classes=chosen, mean=self.mean, std=self.std, sources=sources, meta=meta)
        return build

    def fill(self, sink, source, position, prefetched, labels, size):
        """Decode every file named in `position` and write it to its row of the sink, in bounded buffers."""
        rows, images, shape, done = [], [], None, 0
        with tqdm(total=len(position), desc=f"{self.name}: decoding {source.name}", unit="img",
                  disable=None) as bar:
            for name, data in read_files(source, position, prefetched):
                image = decode(data, size, f"{source}: member {name}")
                if shape is None:
                    shape = image.shape
                    sink.allocate(len(position), shape)
                elif image.shape != shape:
                    raise DataError(f"{source}: member {name} is {image.shape[2]}x{image.shape[1]} but the first "
                                    f"image is {shape[2]}x{shape[1]}; pass size=N to resize")
                rows.append(position[name])
                images.append(image)
                done += 1
                if len(images) == FLUSH_IMAGES:
                    sink.write_at(rows, np.stack(images), labels[rows])
                    rows, images = [], []
                bar.update()
        if images:
            sink.write_at(rows, np.stack(images), labels[rows])
        if done != len(position):
            raise DataError(f"{source}: read {done} of the {len(position)} images listed (changed while reading?)")


IMAGEFOLDER = ImageFolder("imagefolder")
CIFAR10_JPEG = ImageFolder("cifar10-jpeg", default_source="cifar10-jpeg/cifar10-jpeg.tar.gz", default_size=32,
                           mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616),
                           instead="or train on the official binary version, dataset cifar10, which downloads itself "
                                   "(`python -m datasets prepare cifar10 --download`)")
