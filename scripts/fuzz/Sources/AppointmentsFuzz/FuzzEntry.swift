/// libFuzzer's entry point, called once per input.
///
/// The first byte picks what the rest exercises (see ``FuzzTarget``). The decoders under test
/// must never crash, whatever the bytes: errors are fine, a trap or a sanitizer report is a
/// finding. Returns 0, as libFuzzer requires.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzTarget.run(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}

