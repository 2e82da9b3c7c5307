#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the token-signing secret at start-up.
///
/// Sources, first match wins:
/// 1. an explicit file (a flag), read as is;
/// 2. the environment variable `APPOINTMENTS_JWT_SECRET`;
/// 3. `<dataDirectory>/jwt-secret`, created on first start with 32 random bytes and mode 0600, and
///    refused later if its mode lets group or others in.
///
/// Text that is entirely base64 (standard or URL-safe alphabet, padding and surrounding whitespace
/// allowed, as `openssl rand -base64 32` prints) is decoded; anything else is used as raw bytes.
/// Either way at least 32 bytes are required. There is never a built-in secret.
public enum SigningKeyStore {
  /// `APPOINTMENTS_JWT_SECRET`.
  public static var environmentVariable: String { "APPOINTMENTS_JWT_SECRET" }

  /// `jwt-secret`, the generated secret's name inside the data directory.
  public static var generatedFileName: String { "jwt-secret" }

  /// Secret files are a few dozen bytes; anything this large is the wrong file.
  private static var maximumFileSize: Int { 64 * 1024 }

  /// Loads the secret from the first source that is present (see the type's documentation).
  ///
  /// Blocking file I/O: call it once at start-up, before serving.
  ///
  /// - Parameters:
  ///   - file: A path given by the operator, or `nil`. Its permissions are not checked (mounted
  ///     secrets are often 0644); the environment and data directory are not consulted.
  ///   - environment: The process environment, from which ``environmentVariable`` is read. Set but
  ///     empty counts as a (too short) secret, not as absent.
  ///   - dataDirectory: The server's data directory, which must exist.
  /// - Throws: ``AuthError`` with code ``AuthError/Code/weakSecret`` if the secret found is shorter
  ///   than 32 bytes, or ``AuthError/Code/unreadableSecret`` if a file cannot be read or created,
  ///   is not a regular file, or (the generated one) has group or other permissions.
  public static func load(
    file: String?,
    environment: [String: String],
    dataDirectory: String
  ) throws(AuthError) -> SymmetricSecret {
    if let file {
      let contents = try self.readFile(at: file, requireOwnerOnly: false)
      return try self.secret(fromText: contents, source: "secret file \(file)")
    }
    if let value = environment[self.environmentVariable] {
      return try self.secret(fromText: Array(value.utf8), source: "$\(self.environmentVariable)")
    }
    return try self.loadOrCreateGenerated(in: dataDirectory)
  }

  // MARK: Decoding

  private static func secret(fromText contents: [UInt8], source: String) throws(AuthError) -> SymmetricSecret {
    let decoded = self.decodeBase64Text(contents)
    do {
      return try SymmetricSecret(bytes: decoded ?? contents)
    } catch {
      let form = decoded == nil ? "raw" : "base64-decoded"
      throw AuthError(
        code: .weakSecret,
        message: "\(source) holds \((decoded ?? contents).count) \(form) bytes; at least "
          + "\(SymmetricSecret.minimumByteCount) are needed (make one with `openssl rand -base64 32`)"
      )
    }
  }

  /// The bytes `text` encodes, if it is base64 with optional padding and surrounding whitespace.
  static func decodeBase64Text(_ text: [UInt8]) -> [UInt8]? {
    let whitespace: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    var trimmed = text[...]
    while let first = trimmed.first, whitespace.contains(first) { trimmed.removeFirst() }
    while let last = trimmed.last, whitespace.contains(last) { trimmed.removeLast() }
    if trimmed.count % 4 == 0 {
      for _ in 0..<2 where trimmed.last == UInt8(ascii: "=") { trimmed.removeLast() }
    }
    guard !trimmed.isEmpty else { return nil }
    return Base64Codec.decode(trimmed, alphabet: .standard) ?? Base64Codec.decode(trimmed, alphabet: .url)
  }

  // MARK: Files

  private static func loadOrCreateGenerated(in dataDirectory: String) throws(AuthError) -> SymmetricSecret {
    let path = dataDirectory.hasSuffix("/")
      ? dataDirectory + self.generatedFileName : dataDirectory + "/" + self.generatedFileName
    let source = "generated secret file \(path)"
    if let contents = try self.readFileIfPresent(at: path, requireOwnerOnly: true) {
      return try self.secret(fromText: contents, source: source)
    }
    let secret = SymmetricSecret.random()
    if try self.publishNewFile(at: path, contents: self.paddedBase64Line(secret.bytes), in: dataDirectory) {
      return secret
    }
    // Another process created it between our look and our link: use theirs.
    guard let contents = try self.readFileIfPresent(at: path, requireOwnerOnly: true) else {
      throw AuthError(code: .unreadableSecret, message: "\(path) appeared and vanished while starting")
    }
    return try self.secret(fromText: contents, source: source)
  }

  private static func paddedBase64Line(_ bytes: [UInt8]) -> [UInt8] {
    var text = Array(Base64Codec.encode(bytes, alphabet: .standard).utf8)
    while text.count % 4 != 0 { text.append(UInt8(ascii: "=")) }
    text.append(UInt8(ascii: "\n"))
    return text
  }

  private static func readFile(at path: String, requireOwnerOnly: Bool) throws(AuthError) -> [UInt8] {
    guard let contents = try self.readFileIfPresent(at: path, requireOwnerOnly: requireOwnerOnly) else {
      throw AuthError(code: .unreadableSecret, message: "cannot open \(path): \(self.describe(ENOENT))")
    }
    return contents
  }

  /// Reads a regular file, or returns `nil` if nothing is at `path`.
  ///
  /// With `requireOwnerOnly`, a symbolic link or a mode with any group/other bit is refused.
  private static func readFileIfPresent(at path: String, requireOwnerOnly: Bool) throws(AuthError) -> [UInt8]? {
    let flags = O_RDONLY | O_CLOEXEC | (requireOwnerOnly ? O_NOFOLLOW : 0)
    let descriptor = open(path, flags)
    guard descriptor >= 0 else {
      let error = errno
      if error == ENOENT { return nil }
      throw AuthError(code: .unreadableSecret, message: "cannot open \(path): \(self.describe(error))")
    }
    defer { close(descriptor) }

    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw AuthError(code: .unreadableSecret, message: "cannot stat \(path): \(self.describe(errno))")
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
      throw AuthError(code: .unreadableSecret, message: "\(path) is not a regular file")
    }
    let permissions = status.st_mode & 0o777
    if requireOwnerOnly, permissions & 0o077 != 0 {
      throw AuthError(
        code: .unreadableSecret,
        message: "\(path) has mode 0\(String(permissions, radix: 8)), which lets group or others in; "
          + "run `chmod 600 \(path)` if it is yours, or delete it to have a new secret made"
      )
    }
    guard Int(status.st_size) <= self.maximumFileSize else {
      throw AuthError(code: .unreadableSecret, message: "\(path) is larger than \(self.maximumFileSize) bytes")
    }

    var contents = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count == 0 { break }
      if count < 0 {
        let error = errno
        if error == EINTR { continue }
        throw AuthError(code: .unreadableSecret, message: "cannot read \(path): \(self.describe(error))")
      }
      contents += buffer[..<count]
      guard contents.count <= self.maximumFileSize else {
        throw AuthError(code: .unreadableSecret, message: "\(path) is larger than \(self.maximumFileSize) bytes")
      }
    }
    return contents
  }

  /// Writes `contents` to a new private temporary file, makes it durable, then hard-links it to
  /// `path`, which fails rather than replaces if `path` exists.
  ///
  /// Readers therefore never see a half-written secret, even if the process dies mid-write, and two
  /// servers starting at once agree on one secret.
  ///
  /// - Returns: `false` if `path` already existed (nothing was changed).
  private static func publishNewFile(at path: String, contents: [UInt8], in directory: String) throws(AuthError) -> Bool {
    var directoryStatus = stat()
    guard stat(directory, &directoryStatus) == 0, directoryStatus.st_mode & S_IFMT == S_IFDIR else {
      throw AuthError(
        code: .unreadableSecret,
        message: "data directory \(directory) does not exist or is not a directory; cannot create \(path)"
      )
    }

    let temporaryPath = path + ".tmp-" + Base64Codec.encode(SecureRandom.bytes(count: 9), alphabet: .url)
    // O_EXCL|O_CREAT with mode 0600: the file is never readable by others, not even briefly, and
    // an existing file (or a planted symbolic link) is never written through.
    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw AuthError(code: .unreadableSecret, message: "cannot create \(temporaryPath): \(self.describe(errno))")
    }
    var linked = false
    defer { unlink(temporaryPath) }

    do {
      defer { close(descriptor) }
      var written = 0
      while written < contents.count {
        let count = contents[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
          let error = errno
          if error == EINTR { continue }
          throw AuthError(code: .unreadableSecret, message: "cannot write \(temporaryPath): \(self.describe(error))")
        }
        written += count
      }
      guard fsync(descriptor) == 0 else {
        throw AuthError(code: .unreadableSecret, message: "cannot sync \(temporaryPath): \(self.describe(errno))")
      }
    }

    if link(temporaryPath, path) == 0 {
      linked = true
    } else {
      let error = errno
      guard error == EEXIST else {
        throw AuthError(code: .unreadableSecret, message: "cannot create \(path): \(self.describe(error))")
      }
    }
    guard linked else { return false }

    // Make the new directory entry durable too, so a crash does not lose the secret after tokens
    // signed with it were handed out.
    let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else {
      throw AuthError(code: .unreadableSecret, message: "cannot open \(directory): \(self.describe(errno))")
    }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 else {
      throw AuthError(code: .unreadableSecret, message: "cannot sync \(directory): \(self.describe(errno))")
    }
    return true
  }

  private static func describe(_ error: Int32) -> String {
    String(cString: strerror(error))
  }
}
