import CJemalloc

/// jemalloc, which appointmentd links as its memory allocator (docs/DECISIONS.md, "Memory
/// allocator").
enum MemoryAllocator {
  /// jemalloc's version when it really serves `malloc` in this process, nil when the C
  /// library's allocator does after all (jemalloc's count of this thread's bytes does not move).
  static var jemallocVersion: String? {
    var before: UInt64 = 0
    var after: UInt64 = 0
    var size = MemoryLayout<UInt64>.size
    guard mallctl("thread.allocated", &before, &size, nil, 0) == 0 else { return nil }
    // Through the Swift runtime's allocation (malloc), which the optimizer cannot remove.
    UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16).deallocate()
    guard mallctl("thread.allocated", &after, &size, nil, 0) == 0, after > before else { return nil }
    var version: UnsafePointer<CChar>?
    size = MemoryLayout<UnsafePointer<CChar>?>.size
    guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return nil }
    return String(cString: version)
  }
}
