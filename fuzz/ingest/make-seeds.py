#!/usr/bin/env python3
"""Writes the seed corpus of the ingest fuzz target (fuzz/ingest/corpus/).

    python3 fuzz/ingest/make-seeds.py [fuzz/ingest/corpus]

Each seed is the target's selector byte (see FuzzIngest.swift: bits 0-1 the format, then the CSV column
names or the .npy target_index) and a body: small valid datasets and near misses in each format. The .npy
files are written byte by byte (struct) rather than with NumPy, so that lying headers are possible and the
script needs nothing beyond the standard library. Not part of any build; the seeds it wrote are committed.
"""
import os
import struct
import sys

JSON, CSV, NPY, SCAN = 0, 1, 2, 3


def csv_selector(target=0, weight=0):
    """target: 0 none, 1 "y", 2 "target", 3 ""; weight: 0 none, 1 "w", 2 "y", 3 ""."""
    return CSV | target << 2 | weight << 4


def npy_selector(index=0):
    """index into [None, 0, 1, -1, -2, 2, Int.min, Int.max]."""
    return NPY | index << 2


def npy(header, data=b"", version=1, pad=True):
    """A .npy body: magic, version, header length, the header dict text padded with spaces to a multiple of
    64 bytes and ended by a newline (as NumPy writes it), then the data."""
    text = header.encode("utf-8")
    length_size = 2 if version == 1 else 4
    if pad:
        total = 6 + 2 + length_size + len(text) + 1
        text += b" " * (-total % 64)
    text += b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def f8(*values):
    return struct.pack("<%dd" % len(values), *values)


def f4(*values):
    return struct.pack("<%df" % len(values), *values)


def header(descr="<f8", fortran=False, shape=(2, 3)):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(tuple(shape)))


SEEDS = {
    # JSON
    "json-basic": (JSON, b'{"features": [[1, 2.5], [3, -4e2]], "targets": [1, 0]}'),
    "json-all-fields": (
        JSON,
        b'{"name": "iris \\u00e9", "features": [[5.1, 3.5], [4.9, 3.0], [6.2, 3.4]], "targets": [0, 1, 2],'
        b' "sample_weights": [1, 0.5, 0], "feature_names": ["sepal \\"length\\"", "sepal/width"]}',
    ),
    "json-nulls": (
        JSON,
        b'{"name": null, "features": [[1]], "targets": [2], "sample_weights": null, "feature_names": null}',
    ),
    "json-bom-whitespace": (JSON, b'\xef\xbb\xbf \r\n\t{ "targets" : [ 1 ] , "features" : [ [ 0 ] ] }\n'),
    "json-numbers": (
        JSON,
        b'{"features": [[0.1, 1e-300, 123456789012345678901234567890, 9007199254740993, -0, 0.30000000000000004],'
        b' [2.2250738585072014e-308, 4.9e-324, 1.7976931348623157e308, 1E+2, 0.000001, 1234567.0]],'
        b' "targets": [1e22, 1e23]}',
    ),
    "json-ragged": (JSON, b'{"features": [[1, 2], [3]], "targets": [1, 2]}'),
    "json-count-mismatch": (JSON, b'{"features": [[1, 2], [3, 4]], "targets": [1]}'),
    "json-nan": (JSON, b'{"features": [[NaN, Infinity]], "targets": [-Infinity]}'),
    "json-overflow": (JSON, b'{"features": [[1e400]], "targets": [1]}'),
    "json-bad-numbers": (JSON, b'{"features": [[01, 1., .5, +1, 1e, -]], "targets": [1]}'),
    "json-duplicate-key": (JSON, b'{"features": [[1]], "targets": [1], "targets": [2]}'),
    "json-unknown-key": (JSON, b'{"features": [[1]], "targets": [1], "colour": "red"}'),
    "json-negative-weight": (JSON, b'{"features": [[1], [2]], "targets": [1, 2], "sample_weights": [1, -1]}'),
    "json-zero-weights": (JSON, b'{"features": [[1], [2]], "targets": [1, 2], "sample_weights": [0, 0]}'),
    "json-names-mismatch": (JSON, b'{"features": [[1, 2]], "targets": [1], "feature_names": ["a"]}'),
    "json-nested": (JSON, b'{"features": [[[1]]], "targets": [1]}'),
    "json-bad-string": (JSON, b'{"name": "\\ud800x", "features": [[1]], "targets": [1]}'),
    "json-trailing": (JSON, b'{"features": [[1]], "targets": [1]} {}'),
    "json-truncated": (JSON, b'{"features": [[1, 2], [3, 4'),
    "json-not-object": (JSON, b"[[1, 2], [3, 4]]"),
    # CSV
    "csv-basic": (csv_selector(), b"x1,x2,y\n1,2,3\n4,5,6\n"),
    "csv-target-named": (csv_selector(target=1), b"y,x1,x2\n3,1,2\n6,4,5"),
    "csv-weight": (csv_selector(target=1, weight=1), b"x,w,y\n1,0.5,3\n4,1,6\n"),
    "csv-weight-default-target": (csv_selector(weight=1), b"x,y,w\n1,2,1\n"),
    "csv-weight-is-target": (csv_selector(target=1, weight=2), b"x,y\n1,2\n"),
    "csv-empty-name": (csv_selector(target=3), b"a,,b\n1,2,3\n"),
    "csv-quoted-header": (csv_selector(), b'"a,b","say ""hi""","line\nbreak",y\n1,2,3,4\n'),
    "csv-quoted-values": (csv_selector(), b'a,y\n"1.5", 2 \n  -3e2\t,"+.5"\n'),
    "csv-bom-crlf": (csv_selector(), b"\xef\xbb\xbfa,b,y\r\n1,2,3\r\n4,5,6\r\n\r\n\r\n"),
    "csv-lenient-numbers": (csv_selector(), b"a,b,c,y\n+1,.5,5.,1e-3\n007,-0,1E+2,12345678901234567890123\n"),
    "csv-no-final-newline": (csv_selector(), b"a,y\n1,2"),
    "csv-cr-header": (csv_selector(), b"a,y\r1,2\n"),
    "csv-empty-middle-line": (csv_selector(), b"a,y\n1,2\n\n3,4\n"),
    "csv-too-many-fields": (csv_selector(), b"a,y\n1,2,3\n"),
    "csv-too-few-fields": (csv_selector(), b"a,b,y\n1,2\n"),
    "csv-not-a-number": (csv_selector(), b"a,y\n1,abc\nnan,inf\n"),
    "csv-overflow": (csv_selector(), b"a,y\n1e999,2\n"),
    "csv-duplicate-header": (csv_selector(), b"a,a,y\n1,2,3\n"),
    "csv-unknown-target": (csv_selector(target=2), b"a,y\n1,2\n"),
    "csv-only-target": (csv_selector(), b"y\n1\n"),
    "csv-header-only": (csv_selector(), b"a,y\n"),
    "csv-empty": (csv_selector(), b""),
    "csv-quote-in-field": (csv_selector(), b'a,b"c,y\n1,2,3\n'),
    "csv-unclosed-quote": (csv_selector(), b'"a,y\n1,2\n'),
    "csv-bad-utf8": (csv_selector(), b"a\xff,y\n1,2\n"),
    "csv-negative-weight": (csv_selector(weight=1), b"x,w,y\n1,-1,3\n"),
    "csv-zero-weights": (csv_selector(weight=1), b"x,w,y\n1,0,3\n2,0,4\n"),
    # .npy
    "npy-v1-f8-c": (npy_selector(), npy(header(), f8(1, 2, 3, 4, 5, 6))),
    "npy-v2-f8-c": (npy_selector(), npy(header(), f8(1, 2, 3, 4, 5, 6), version=2)),
    "npy-v3-f8-c": (npy_selector(), npy(header(), f8(1, 2, 3, 4, 5, 6), version=3)),
    "npy-v3-utf8-dtype": (npy_selector(), npy(header("<f8\u00e9"), f8(1, 2, 3, 4, 5, 6), version=3)),
    "npy-f4-c": (npy_selector(), npy(header("<f4"), f4(1, 2, 3, 4, 5, 6))),
    "npy-f8-fortran": (npy_selector(), npy(header(fortran=True), f8(1, 2, 3, 4, 5, 6))),
    "npy-f4-fortran-target-0": (npy_selector(1), npy(header("<f4", True, (3, 3)), f4(*range(9)))),
    "npy-target-1": (npy_selector(2), npy(header(), f8(1, 2, 3, 4, 5, 6))),
    "npy-target-minus-2": (npy_selector(4), npy(header(), f8(1, 2, 3, 4, 5, 6))),
    "npy-target-out-of-range": (npy_selector(6), npy(header(), f8(1, 2, 3, 4, 5, 6))),
    "npy-wide-fortran": (npy_selector(5), npy(header(fortran=True, shape=(2, 70)), f8(*range(140)))),
    "npy-tall": (npy_selector(), npy(header(shape=(40, 2)), f8(*range(80)))),
    "npy-unpadded-double-quotes": (
        npy_selector(),
        npy('{"descr": "<f8", "fortran_order": False, "shape": (1, 2)}', f8(1, 2), pad=False),
    ),
    "npy-python2-long": (npy_selector(), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 2L), }", f8(1, 2))),
    "npy-nan": (npy_selector(), npy(header(), f8(1, 2, float("nan"), 4, 5, 6))),
    "npy-inf-target": (npy_selector(), npy(header("<f4"), f4(1, 2, float("inf"), 4, 5, 6))),
    "npy-shape-too-large": (npy_selector(), npy(header(shape=(3, 3)), f8(1, 2, 3, 4, 5, 6))),
    "npy-shape-too-small": (npy_selector(), npy(header(shape=(1, 2)), f8(1, 2, 3, 4, 5, 6))),
    "npy-shape-overflow": (npy_selector(), npy(header(shape=(2**62, 2**62)), f8(1, 2))),
    "npy-1d": (npy_selector(), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", f8(1, 2, 3, 4, 5, 6))),
    "npy-one-column": (npy_selector(), npy(header(shape=(2, 1)), f8(1, 2))),
    "npy-big-endian": (npy_selector(), npy(header(">f8"), f8(1, 2, 3, 4, 5, 6))),
    "npy-int": (npy_selector(), npy(header("<i8"), f8(1, 2, 3, 4, 5, 6))),
    "npy-structured": (
        npy_selector(),
        npy("{'descr': [('a', '<f8'), ('b', '<f8')], 'fortran_order': False, 'shape': (1, 2), }", f8(1, 2, 3, 4)),
    ),
    "npy-missing-key": (npy_selector(), npy("{'descr': '<f8', 'shape': (1, 2), }", f8(1, 2))),
    "npy-unknown-key": (npy_selector(), npy(header()[:-1] + "'x': 1}", f8(1, 2, 3, 4, 5, 6))),
    "npy-header-length-lies": (npy_selector(), b"\x93NUMPY\x01\x00\xff\xff" + header().encode()),
    "npy-bad-version": (npy_selector(), npy(header(), f8(1, 2, 3, 4, 5, 6)).replace(b"\x01\x00", b"\x04\x00", 1)),
    "npy-non-ascii-header": (npy_selector(), npy(header().replace("descr", "d\xe9scr"), f8(1, 2, 3, 4, 5, 6))),
    "npy-truncated": (npy_selector(), b"\x93NUMPY\x01"),
    # The number scanner alone.
    "scan-numbers": (
        SCAN,
        b"0 -0 1 +1 .5 5. 1e5 1E-5 1e+5 1e 1.e5 01 -.5 123456789012345678901 9007199254740993 "
        b"2.2250738585072011e-308 1e-400 1e400 0.1e23 1e23 8.98846567431158e307 4.35e-27 17976931348623157e292",
    ),
}


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(directory, exist_ok=True)
    for name, (selector, body) in SEEDS.items():
        with open(os.path.join(directory, name), "wb") as seed:
            seed.write(bytes([selector]) + body)
    print("wrote %d seeds to %s" % (len(SEEDS), directory))


if __name__ == "__main__":
    main()
