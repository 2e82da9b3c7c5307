public import Foundation

/// The rules for text that users type in: each function returns the normalised value or throws
/// `invalidArgument` with the field's reason, so a bad request changes nothing.
public enum Validation {
  // Lengths count Unicode scalars, at most 4 UTF-8 bytes each, so that every limit also bounds
  // the bytes kept, logged and sent in answers. Counted in characters (grapheme clusters), one
  // letter followed by any number of combining marks was a single character: a name of 1 MiB
  // passed a limit of 200.

  /// The lengths a name may have, in Unicode scalars after trimming.
  public static let nameLength = 1...200
  /// The lengths a contact may have, in Unicode scalars after trimming.
  public static let contactLength = 1...100
  /// The lengths a password may have, in Unicode scalars.
  public static let passwordLength = 8...128
  /// The longest email address, in UTF-8 bytes (RFC 5321's limit for a forward path).
  public static let maximumEmailBytes = 254

  /// A person's name, trimmed.
  ///
  /// - Throws: `INVALID_NAME` when it is empty after trimming, longer than 200 Unicode scalars
  ///   or contains a control character.
  public static func name(_ text: String) throws(AppointmentsError) -> String {
    let name = trimmed(text)
    guard hasLength(name, in: nameLength) else {
      throw .invalidName("a name must have \(nameLength.lowerBound)…\(nameLength.upperBound) characters")
    }
    guard !containsControlCharacter(name) else {
      throw .invalidName("a name must not contain control characters")
    }
    return name
  }

  /// An email address, trimmed and lower-cased so that it can serve as a login key.
  ///
  /// Checks the shape only: one `@`, a non-empty local part, a domain of non-empty labels with
  /// at least one dot, no white space or control characters, at most 254 bytes.
  ///
  /// - Throws: `INVALID_EMAIL` otherwise.
  public static func email(_ text: String) throws(AppointmentsError) -> String {
    let email = normalizedEmail(text)
    guard !email.isEmpty, email.utf8.count <= maximumEmailBytes else {
      throw .invalidEmail("an email address must have 1…\(maximumEmailBytes) bytes")
    }
    guard !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || isControl($0) }) else {
      throw .invalidEmail("an email address must not contain spaces or control characters")
    }
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2 else {
      throw .invalidEmail("an email address must contain exactly one @")
    }
    let local = parts[0]
    let domainLabels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
    guard !local.isEmpty else {
      throw .invalidEmail("an email address needs a name before the @")
    }
    guard domainLabels.count >= 2, domainLabels.allSatisfy({ !$0.isEmpty }) else {
      throw .invalidEmail("an email address needs a domain such as example.org after the @")
    }
    return email
  }

  /// An email address trimmed and lower-cased but not checked: the form to look a login up by,
  /// so that an unknown address and a malformed one fail alike.
  public static func normalizedEmail(_ text: String) -> String {
    trimmed(text).lowercased()
  }

  /// How to reach a person (a phone number or an email address, free text), trimmed.
  ///
  /// - Throws: `INVALID_CONTACT` when it is empty after trimming, longer than 100 Unicode scalars
  ///   or contains a control character.
  public static func contact(_ text: String) throws(AppointmentsError) -> String {
    let contact = trimmed(text)
    guard hasLength(contact, in: contactLength) else {
      throw .invalidContact("a contact must have \(contactLength.lowerBound)…\(contactLength.upperBound) characters")
    }
    guard !containsControlCharacter(contact) else {
      throw .invalidContact("a contact must not contain control characters")
    }
    return contact
  }

  /// Checks a password's length. The password is not trimmed: every character counts.
  ///
  /// - Throws: `INVALID_PASSWORD` unless it has 8…128 Unicode scalars.
  public static func password(_ text: String) throws(AppointmentsError) {
    guard hasLength(text, in: passwordLength) else {
      throw .invalidPassword(
        "a password must have \(passwordLength.lowerBound)…\(passwordLength.upperBound) characters"
      )
    }
  }

  /// An IANA time zone identifier such as `Europe/Paris`, trimmed; empty means `UTC`.
  ///
  /// Accepts `UTC`, `GMT` and `Area/Location` names that Foundation knows. Refuses the
  /// abbreviations and offsets that `TimeZone(identifier:)` also accepts (`PST`, `BST`,
  /// `GMT+5`): they are not IANA names and some are ambiguous (`BST`, `IST`).
  ///
  /// - Throws: `UNKNOWN_TIME_ZONE` otherwise.
  public static func timeZoneIdentifier(_ text: String) throws(AppointmentsError) -> String {
    let identifier = trimmed(text)
    if identifier.isEmpty || identifier == "UTC" || identifier == "GMT" {
      return identifier.isEmpty ? "UTC" : identifier
    }
    // Foundation's own list lacks some canonical names (Asia/Kolkata on Linux), so the list is
    // a shortcut, and an Area/Location name that Foundation loads unchanged is accepted too.
    if TimeZone.knownTimeZoneIdentifiers.contains(identifier) {
      return identifier
    }
    guard identifier.contains("/"), let zone = TimeZone(identifier: identifier), zone.identifier == identifier else {
      throw .unknownTimeZone(text)
    }
    return identifier
  }

  /// The `TimeZone` of an identifier that ``timeZoneIdentifier(_:)`` accepted.
  ///
  /// - Throws: `UNKNOWN_TIME_ZONE` when Foundation cannot load it (e.g. a stored identifier
  ///   this system's time zone database lacks).
  public static func timeZone(_ identifier: String) throws(AppointmentsError) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else {
      throw .unknownTimeZone(identifier)
    }
    return zone
  }

  /// `text` in double quotes for an error message, cut after `limit` Unicode scalars with "…":
  /// a refusal names what it refuses without echoing a client's megabyte back, or into the log
  /// when the refusal of an idempotent call is kept.
  public static func quoted(_ text: String, limit: Int = 64) -> String {
    let scalars = text.unicodeScalars
    guard scalars.count > limit else { return "\"\(text)\"" }
    var cut = String.UnicodeScalarView()
    cut.append(contentsOf: scalars.prefix(limit))
    return "\"\(String(cut))…\""
  }

  /// Whether `text` has a length in `range`, in Unicode scalars; the byte count, which a native
  /// string knows without reading it, refuses a long text before its scalars are counted.
  private static func hasLength(_ text: String, in range: ClosedRange<Int>) -> Bool {
    text.utf8.count <= 4 * range.upperBound && range.contains(text.unicodeScalars.count)
  }

  static func trimmed(_ text: String) -> String {
    text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private static func containsControlCharacter(_ text: String) -> Bool {
    text.unicodeScalars.contains(where: isControl)
  }

  private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.generalCategory == .control
  }
}
