#!/usr/bin/env bash
# Regenerates Sources/StrataExport/Generated/onnx.pb.swift from the ONNX
# schema. Run by hand when the schema or swift-protobuf changes; CI never
# runs it (building the protoc plugin takes minutes), the output is committed.
#
# Needs: protoc (apt-get install protobuf-compiler), the onnx Python package
# (pip install onnx, which ships onnx.proto), and a checkout of swift-protobuf
# at the version Package.swift names (SwiftPM puts one in .build/checkouts).
set -euo pipefail
cd "$(dirname "$0")/.."
proto_dir=$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')
plugin_src=${SWIFT_PROTOBUF_DIR:-.build/checkouts/swift-protobuf}
[ -d "$plugin_src" ] || { echo "no swift-protobuf checkout at $plugin_src; run swift package resolve first" >&2; exit 2; }
(cd "$plugin_src" && swift build -c release --product protoc-gen-swift)
plugin=$(cd "$plugin_src" && swift build -c release --show-bin-path)/protoc-gen-swift
out=Sources/StrataExport/Generated
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$proto_dir/onnx.proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" \
  --swift_opt=Visibility=Public --swift_out="$out" "$work/onnx.proto"
echo "wrote $out/onnx.pb.swift from onnx $(python3 -c 'import onnx; print(onnx.__version__)')"
