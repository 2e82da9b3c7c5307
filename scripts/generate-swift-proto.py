#!/usr/bin/env python3
"""Generates Swift value types for the messages in proto/ and their bridging to protobuf-c.

Called by scripts/generate-proto.sh after protoc-c. It reads the subset of proto3 this project
uses (top-level messages and enums; scalar, string, bytes, enum and message fields; repeated
fields; oneofs), and writes one `<name>.pb.swift` per .proto file. For every message it emits:

  - a public `Sendable, Hashable` struct in the `V1` namespace, with a memberwise initialiser;
  - `ProtoMessage` conformance (decode through protobuf-c into an arena, encode through
    protobuf-c from an arena), delegating to the hand-written code in Sources/AppointmentsProto:
    the arena's helpers in ProtoArena.swift and the protocol's shared methods in
    ProtoMessage.swift;
  - internal `init(_ c:)` (copy out of the C struct, validating text) and `cMessage(in:)`
    (build the C struct in the arena).

The naming of C symbols follows protoc-c 1.4: `Appointments__V1__BookSlotRequest`,
`appointments__v1__book_slot_request__unpack`, `APPOINTMENTS__V1__BOOK_SLOT_REQUEST__SLOT_START_MINUTE`.
"""

import argparse
import os
import re
import sys

# Messages that may carry fields encoded ahead of time (`preencodedFields`, ProtoEncodedField.swift):
# the ones that embed a doctor, whom the server encodes once per profile. Not every message: the
# extra stored property made every message larger, and `book` measurably slower.
PREENCODED_MESSAGES = {"DoctorAvailability", "Appointment"}

SCALARS = {
    "uint32": "UInt32", "int32": "Int32", "uint64": "UInt64", "int64": "Int64",
    "bool": "Bool", "double": "Double", "float": "Float",
    "sint32": "Int32", "sint64": "Int64", "fixed32": "UInt32", "fixed64": "UInt64",
    "sfixed32": "Int32", "sfixed64": "Int64",
}
SWIFT_KEYWORDS = {"default", "in", "is", "as", "case", "class", "func", "let", "var", "return",
                  "self", "struct", "enum", "protocol", "extension", "import", "init", "operator",
                  "repeat", "switch", "where", "while", "for", "if", "else", "do", "throw", "try"}


class Field:
    def __init__(self, label, type_, name, number, doc, oneof=None):
        self.repeated = label == "repeated"
        self.type = type_
        self.name = name
        self.number = number
        self.doc = doc
        self.oneof = oneof


class Message:
    def __init__(self, name, doc):
        self.name = name
        self.doc = doc
        self.fields = []
        self.oneofs = []  # (name, [fields], doc)


class Enum:
    def __init__(self, name, doc):
        self.name = name
        self.doc = doc
        self.values = []  # (name, number, doc)


def tokenize(text):
    """Returns [token, leading comment lines, trailing comment lines] for every token.

    A comment on lines of its own documents the next token; a comment after a token on the same
    line (`int32 month = 2;  // 1…12`) documents that token.
    """
    pos = 0
    pattern = re.compile(r"\s+|//[^\n]*|/\*.*?\*/|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_.]*|-?\d+|[{}=;<>,\[\]()]", re.S)
    tokens = []
    pending_doc = []
    same_line = False
    while pos < len(text):
        m = pattern.match(text, pos)
        if not m:
            raise SystemExit(f"unexpected character at {pos}: {text[pos:pos + 20]!r}")
        tok = m.group(0)
        pos = m.end()
        if tok.isspace():
            if "\n" in tok:
                same_line = False
            if tok.count("\n") > 1:
                pending_doc = []
            continue
        if tok.startswith("//"):
            line = tok[3:].rstrip() if tok[2:3] == " " else tok[2:].strip()
            if same_line and tokens:
                tokens[-1][2].append(line)
            else:
                pending_doc.append(line)
            continue
        if tok.startswith("/*"):
            continue
        tokens.append([tok, pending_doc, []])
        pending_doc = []
        same_line = True
    return tokens


def parse(path):
    tokens = tokenize(open(path).read())
    i = 0
    package = None
    messages, enums, services = [], [], []

    def expect(value):
        nonlocal i
        if tokens[i][0] != value:
            raise SystemExit(f"{path}: expected {value!r}, found {tokens[i][0]!r}")
        i += 1

    def skip_block():
        nonlocal i
        depth = 0
        while True:
            tok = tokens[i][0]
            i += 1
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0:
                    return

    def parse_field(oneof=None):
        nonlocal i
        doc = tokens[i][1]
        label = None
        if tokens[i][0] == "repeated":
            label = "repeated"
            i += 1
        if tokens[i][0] == "optional":
            raise SystemExit(f"{path}: proto3 optional is not supported by protobuf-c 1.4; use a oneof")
        type_ = tokens[i][0]
        name = tokens[i + 1][0]
        i += 2
        expect("=")
        number = int(tokens[i][0])
        i += 1
        expect(";")
        return Field(label, type_, name, number, doc + tokens[i - 1][2], oneof)

    while i < len(tokens):
        tok, doc, _ = tokens[i]
        if tok in ("syntax", "import", "option"):
            while tokens[i][0] != ";":
                i += 1
            i += 1
        elif tok == "package":
            package = tokens[i + 1][0]
            i += 3
        elif tok == "service":
            service = (tokens[i + 1][0], doc, [])
            i += 2
            expect("{")
            while tokens[i][0] != "}":
                # rpc Name(Request) returns (Response);
                rpc_doc = tokens[i][1]
                expect("rpc")
                name = tokens[i][0]
                request = tokens[i + 2][0]
                response = tokens[i + 6][0]
                i += 8
                expect(";")
                service[2].append((name, request, response, rpc_doc))
            i += 1
            services.append(service)
        elif tok == "message":
            msg = Message(tokens[i + 1][0], doc)
            i += 2
            expect("{")
            while tokens[i][0] != "}":
                if tokens[i][0] == "oneof":
                    oneof_doc = tokens[i][1]
                    oneof_name = tokens[i + 1][0]
                    i += 2
                    expect("{")
                    members = []
                    while tokens[i][0] != "}":
                        members.append(parse_field(oneof_name))
                    i += 1
                    msg.oneofs.append((oneof_name, members, oneof_doc))
                    msg.fields.extend(members)
                elif tokens[i][0] in ("message", "enum"):
                    raise SystemExit(f"{path}: nested types are not supported; declare {tokens[i + 1][0]} at top level")
                elif tokens[i][0] == "reserved":
                    while tokens[i][0] != ";":
                        i += 1
                    i += 1
                else:
                    msg.fields.append(parse_field())
            i += 1
            messages.append(msg)
        elif tok == "enum":
            enum = Enum(tokens[i + 1][0], doc)
            i += 2
            expect("{")
            while tokens[i][0] != "}":
                vdoc = tokens[i][1]
                vname = tokens[i][0]
                i += 1
                expect("=")
                vnum = int(tokens[i][0])
                i += 1
                expect(";")
                enum.values.append((vname, vnum, vdoc + tokens[i - 1][2]))
            i += 1
            enums.append(enum)
        else:
            raise SystemExit(f"{path}: unexpected {tok!r}")
    return package, messages, enums, services


def camel_to_lower(name):
    """protoc-c's CamelToLower: an underscore before every capital but the first."""
    out = ""
    for idx, ch in enumerate(name):
        if ch.isupper():
            if idx != 0:
                out += "_"
            out += ch.lower()
        else:
            out += ch
    return out


def swift_field_name(name):
    parts = name.split("_")
    result = parts[0]
    for part in parts[1:]:
        result += "ID" if part == "id" else part[:1].upper() + part[1:]
    return f"`{result}`" if result in SWIFT_KEYWORDS else result


def bare(name):
    return name.strip("`")


def upper_camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def enum_case_name(enum, value_name):
    prefix = camel_to_lower(enum.name).upper() + "_"
    short = value_name[len(prefix):] if value_name.startswith(prefix) else value_name
    parts = short.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


class Generator:
    def __init__(self, package, all_messages, all_enums):
        self.c_prefix = "__".join(p[:1].upper() + p[1:] for p in package.split(".")) + "__"
        self.fn_prefix = "__".join(package.split(".")) + "__"
        self.const_prefix = "__".join(p.upper() for p in package.split(".")) + "__"
        self.messages = {m.name: m for m in all_messages}
        self.enums = {e.name: e for e in all_enums}
        self.out = []

    def emit(self, line=""):
        self.out.append(line)

    def doc(self, lines, indent):
        for line in lines:
            self.emit(f"{indent}/// {line}".rstrip())

    def c_type(self, msg_name):
        return self.c_prefix + msg_name

    def c_fn(self, msg_name, suffix):
        return f"{self.fn_prefix}{camel_to_lower(msg_name)}__{suffix}"

    def swift_type(self, field, element=False):
        if field.type in SCALARS:
            base = SCALARS[field.type]
        elif field.type == "string":
            base = "String"
        elif field.type == "bytes":
            base = "[UInt8]"
        elif field.type in self.enums or field.type in self.messages:
            base = f"V1.{field.type}"
        else:
            raise SystemExit(f"unknown type {field.type}")
        if element:
            return base
        if field.repeated:
            return f"[{base}]"
        return base

    def default_value(self, field):
        if field.repeated:
            return "[]"
        if field.type in SCALARS:
            return "false" if field.type == "bool" else "0"
        if field.type == "string":
            return '""'
        if field.type == "bytes":
            return "[]"
        if field.type in self.enums:
            return f"V1.{field.type}(rawValue: 0)"
        return "nil"

    def is_optional(self, field):
        return not field.repeated and field.type in self.messages

    def properties(self, msg):
        """(swift name, swift type, default, doc) for each stored property, oneofs folded."""
        props = []
        seen_oneofs = set()
        for field in msg.fields:
            if field.oneof:
                if field.oneof in seen_oneofs:
                    continue
                seen_oneofs.add(field.oneof)
                name, members, doc = next(o for o in msg.oneofs if o[0] == field.oneof)
                if len(members) == 1:
                    only = members[0]
                    props.append((swift_field_name(only.name), self.swift_type(only) + "?", "nil", doc + only.doc))
                else:
                    props.append((swift_field_name(name), upper_camel(name) + "?", "nil", doc))
                continue
            type_ = self.swift_type(field)
            if self.is_optional(field):
                type_ += "?"
            props.append((swift_field_name(field.name), type_, self.default_value(field), field.doc))
        return props

    # MARK: emission

    def generate_enum(self, enum):
        self.doc(enum.doc or [f"The `{enum.name}` enum of the protocol."], "  ")
        self.doc(["", "Open like every proto3 enum: unknown values survive decoding as their raw number."], "  ")
        self.emit(f"  public struct {enum.name}: RawRepresentable, Sendable, Hashable, CustomStringConvertible {{")
        self.emit("    public var rawValue: Int32")
        self.emit("    public init(rawValue: Int32) { self.rawValue = rawValue }")
        for vname, vnum, vdoc in enum.values:
            self.emit()
            self.doc(vdoc or [f"`{vname}` ({vnum})."], "    ")
            self.emit(f"    public static let {enum_case_name(enum, vname)} = {enum.name}(rawValue: {vnum})")
        self.emit()
        self.emit("    public var description: String {")
        self.emit("      switch rawValue {")
        for vname, vnum, _ in enum.values:
            self.emit(f'      case {vnum}: "{vname}"')
        self.emit('      default: "\\(rawValue)"')
        self.emit("      }")
        self.emit("    }")
        self.emit("  }")

    def generate_struct(self, msg):
        props = self.properties(msg)
        self.doc(msg.doc or [f"The `{msg.name}` message of the protocol."], "  ")
        self.emit(f"  public struct {msg.name}: Sendable, Hashable {{")
        for oneof_name, members, doc in msg.oneofs:
            if len(members) == 1:
                continue
            self.doc(doc or [f"The `{oneof_name}` oneof."], "    ")
            self.emit(f"    public enum {upper_camel(oneof_name)}: Sendable, Hashable {{")
            for member in members:
                self.doc(member.doc, "      ")
                self.emit(f"      case {swift_field_name(member.name)}({self.swift_type(member)})")
            self.emit("    }")
            self.emit()
        for name, type_, _, doc in props:
            self.doc(doc, "    ")
            self.emit(f"    public var {name}: {type_}")
        if msg.name in PREENCODED_MESSAGES:
            self.emit("    /// Fields encoded ahead of time, written after the others (``ProtoEncodedField``);")
            self.emit("    /// decoding leaves this empty.")
            self.emit("    public var preencodedFields: [ProtoEncodedField] = []")
        if props or msg.name in PREENCODED_MESSAGES:
            self.emit()
        self.emit("    /// Creates a message; every field defaults to its proto3 default.")
        if props:
            params = ",\n".join(f"      {bare(n)}: {t} = {d}" for n, t, d, _ in props)
            self.emit(f"    public init(\n{params}\n    ) {{")
            for name, _, _, _ in props:
                self.emit(f"      self.{name} = {bare(name)}")
            self.emit("    }")
        else:
            self.emit("    public init() {}")
        self.emit("  }")

    def generate_service(self, package, service):
        name, doc, rpcs = service
        self.doc(doc or [f"The `{name}` service."], "  ")
        self.emit(f"  public enum {name} {{")
        for rpc, request, response, rpc_doc in rpcs:
            self.doc(rpc_doc or [f"`{rpc}`: `{request}` → `{response}`."], "    ")
            method = rpc[:1].lower() + rpc[1:]
            self.emit(f'    public static let {method} = RPCMethod<V1.{request}, V1.{response}>(path: "/{package}.{name}/{rpc}")')
        self.emit()
        self.emit("    /// The path of every method, in declaration order.")
        paths = ", ".join(f"{r[0][:1].lower() + r[0][1:]}.path" for r in rpcs)
        self.emit(f"    public static let allPaths: [String] = [{paths}]")
        self.emit("  }")

    def generate_bridge(self, msg):
        c = self.c_type(msg.name)
        self.emit(f"extension V1.{msg.name}: ProtoMessage {{")
        self.emit("  public init(decoding bytes: UnsafeRawBufferPointer, arena: ProtoArena) throws(ProtoDecodingError) {")
        self.emit(f"    self = try arena.decode(bytes, unpack: {self.c_fn(msg.name, 'unpack')}) {{ (c) throws(ProtoDecodingError) in try Self(c) }}")
        self.emit("  }")
        self.emit()
        self.emit("  public static func check(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {")
        self.emit(f"    try checkWireFormat(bytes, of: {self.c_fn(msg.name, 'descriptor')})")
        self.emit("  }")
        self.emit()
        self.emit("  public func encode<Result>(")
        self.emit("    arena: ProtoArena,")
        self.emit("    _ body: (ProtoPacker) throws(ProtoEncodingError) -> Result")
        self.emit("  ) throws(ProtoEncodingError) -> Result {")
        self.emit("    try arena.encode({ arena throws(ProtoEncodingError) in try self.cMessage(in: arena) }, body)")
        self.emit("  }")
        self.emit("}")
        self.emit()
        self.emit(f"extension V1.{msg.name} {{")
        # init from C
        self.emit(f"  init(_ c: UnsafePointer<{c}>) throws(ProtoDecodingError) {{")
        if msg.fields:
            self.emit("    self.init()")
        for field in msg.fields:
            if field.oneof:
                continue
            self.emit_read(field, f"c.pointee.{field.name}", f"self.{swift_field_name(field.name)}", "    ")
        for oneof_name, members, _ in msg.oneofs:
            msg_upper = self.const_prefix + camel_to_lower(msg.name).upper()
            case_field = f"c.pointee.{oneof_name}_case"
            self.emit(f"    switch {case_field} {{")
            for member in members:
                const = f"{msg_upper}__{oneof_name.upper()}_{member.name.upper()}"
                self.emit(f"    case {const}:")
                if len(members) == 1:
                    self.emit_read(member, f"c.pointee.{member.name}", f"self.{swift_field_name(member.name)}", "      ", optional_scalar=True)
                else:
                    self.emit_read(member, f"c.pointee.{member.name}", "let value", "      ", declare=True)
                    self.emit(f"      self.{swift_field_name(oneof_name)} = .{swift_field_name(member.name)}(value)")
            self.emit("    default:")
            self.emit("      break")
            self.emit("    }")
        if not msg.fields:
            self.emit("    _ = c")
            self.emit("    self.init()")
        self.emit("  }")
        self.emit()
        # C from self
        self.emit(f"  func cMessage(in arena: ProtoArena) throws(ProtoEncodingError) -> UnsafeMutablePointer<{c}> {{")
        self.emit(f"    let c = arena.allocate({c}.self)")
        self.emit(f"    {self.c_fn(msg.name, 'init')}(c)")
        for field in msg.fields:
            if field.oneof:
                continue
            self.emit_write(field, f"c.pointee.{field.name}", swift_field_name(field.name), "    ")
        for oneof_name, members, _ in msg.oneofs:
            msg_upper = self.const_prefix + camel_to_lower(msg.name).upper()
            if len(members) == 1:
                member = members[0]
                self.emit(f"    if let value = self.{swift_field_name(member.name)} {{")
                self.emit(f"      c.pointee.{oneof_name}_case = {msg_upper}__{oneof_name.upper()}_{member.name.upper()}")
                self.emit_write(member, f"c.pointee.{member.name}", "value", "      ", plain=True)
                self.emit("    }")
                continue
            # One switch, not an `if case` per member: each look at the enum copies it.
            self.emit(f"    switch self.{swift_field_name(oneof_name)} {{")
            for member in members:
                self.emit(f"    case .{swift_field_name(member.name)}(let value):")
                self.emit(f"      c.pointee.{oneof_name}_case = {msg_upper}__{oneof_name.upper()}_{member.name.upper()}")
                self.emit_write(member, f"c.pointee.{member.name}", "value", "      ", plain=True)
            self.emit("    case nil:")
            self.emit("      break")
            self.emit("    }")
        if msg.name in PREENCODED_MESSAGES:
            self.emit("    arena.attach(self.preencodedFields, to: &c.pointee.base)")
        self.emit("    return c")
        self.emit("  }")
        self.emit("}")

    def element_read(self, field, expr):
        """Swift expression converting one C element `expr` to the Swift element type."""
        if field.type in SCALARS:
            return expr
        if field.type == "string":
            return f'try textFromC({expr}, field: "{field.name}")'
        if field.type == "bytes":
            return f"bytesFromC({expr})"
        if field.type in self.enums:
            return f"V1.{field.type}(rawValue: Int32(truncatingIfNeeded: {expr}.rawValue))"
        return f"try V1.{field.type}(UnsafePointer({expr}!))"

    def emit_read(self, field, c_expr, target, indent, declare=False, optional_scalar=False):
        if field.repeated:
            base = c_expr.rsplit(".", 1)[0]
            count = f"{base}.n_{field.name}"
            if field.type in SCALARS:
                self.emit(f"{indent}{target} = Array(UnsafeBufferPointer(start: {c_expr}, count: {count}))")
            else:
                conv = self.element_read(field, f"{c_expr}[index]")
                self.emit(f"{indent}{target}.reserveCapacity({count})")
                self.emit(f"{indent}for index in 0..<{count} {{")
                self.emit(f"{indent}  {target}.append({conv})")
                self.emit(f"{indent}}}")
            return
        if field.type in self.messages:
            if declare:
                self.emit(f"{indent}guard let pointer = {c_expr} else {{ break }}")
                self.emit(f"{indent}{target} = try V1.{field.type}(UnsafePointer(pointer))")
            else:
                self.emit(f"{indent}if let pointer = {c_expr} {{")
                self.emit(f"{indent}  {target} = try V1.{field.type}(UnsafePointer(pointer))")
                self.emit(f"{indent}}}")
            return
        self.emit(f"{indent}{target} = {self.element_read(field, c_expr)}")

    def element_write(self, field, value):
        if field.type in SCALARS:
            return value
        if field.type == "string":
            return f'try arena.cString({value}, field: "{field.name}")'
        if field.type == "bytes":
            return f"arena.binaryData({value})"
        if field.type in self.enums:
            c_enum = self.c_type(field.type)
            return f"{c_enum}(rawValue: .init(truncatingIfNeeded: {value}.rawValue))"
        return f"try {value}.cMessage(in: arena)"

    def emit_write(self, field, c_expr, value, indent, plain=False):
        value_expr = value if plain else f"self.{value}"
        if field.repeated:
            base = c_expr.rsplit(".", 1)[0]
            self.emit(f"{indent}{base}.n_{field.name} = {value_expr}.count")
            if field.type in SCALARS:
                self.emit(f"{indent}{c_expr} = arena.copy({value_expr})")
            else:
                conv = self.element_write(field, "element")
                self.emit(f"{indent}{c_expr} = try arena.array({value_expr}) {{ element throws(ProtoEncodingError) in {conv} }}")
            return
        if field.type in self.messages and not plain:
            self.emit(f"{indent}if let value = {value_expr} {{")
            self.emit(f"{indent}  {c_expr} = try value.cMessage(in: arena)")
            self.emit(f"{indent}}}")
            return
        self.emit(f"{indent}{c_expr} = {self.element_write(field, value_expr)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for the generated .pb.swift files")
    parser.add_argument("protos", nargs="+", help=".proto files, all in one package")
    args = parser.parse_args()

    parsed = [(path, *parse(path)) for path in args.protos]
    packages = {p for _, p, _, _, _ in parsed}
    if len(packages) != 1:
        raise SystemExit(f"all files must share one package, found {sorted(packages)}")
    all_messages = [m for _, _, ms, _, _ in parsed for m in ms]
    all_enums = [e for _, _, _, es, _ in parsed for e in es]

    for path, package, messages, enums, services in parsed:
        gen = Generator(package, all_messages, all_enums)
        stem = os.path.splitext(os.path.basename(path))[0]
        gen.emit(f"// Generated by scripts/generate-swift-proto.py from {os.path.relpath(path)}. Do not edit.")
        gen.emit()
        gen.emit("internal import CAppointmentsProto")
        gen.emit()
        gen.emit("extension V1 {")
        first = True
        for enum in enums:
            if not first:
                gen.emit()
            first = False
            gen.generate_enum(enum)
        for msg in messages:
            if not first:
                gen.emit()
            first = False
            gen.generate_struct(msg)
        for service in services:
            gen.emit()
            gen.generate_service(package, service)
        gen.emit("}")
        for msg in messages:
            gen.emit()
            gen.generate_bridge(msg)
        target = os.path.join(args.out, f"{stem}.pb.swift")
        with open(target, "w") as fh:
            fh.write("\n".join(gen.out) + "\n")


if __name__ == "__main__":
    main()
