/// Random bytes for salts, token ids and generated secrets.
///
/// `SystemRandomNumberGenerator` is documented as cryptographically secure on every platform
/// Swift supports (`getrandom`/`arc4random_buf`), so no extra dependency is needed.
enum SecureRandom {
  static func bytes(count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
      var word = generator.next()
      for _ in 0..<min(8, count - index) {
        bytes[index] = UInt8(truncatingIfNeeded: word)
        word >>= 8
        index += 1
      }
    }
    return bytes
  }
}
