/// The opaque page tokens that list calls hand out and take back.
///
/// A token is a versioned, typed encoding of the position after the last item of a page; an
/// empty token means "the first page". Tokens are not secret and not signed: a forged token can
/// only name another position in a list the caller may read anyway.
///
/// Layout (big-endian): version `1`, kind (`1` appointment, `2` doctor), then for an appointment
/// the day number (Int32), start minute (UInt16) and id (UInt64); for a doctor his id (UInt64).
public enum PageToken {
  private static let version: UInt8 = 1
  private static let appointmentKind: UInt8 = 1
  private static let doctorKind: UInt8 = 2

  /// The token for the page after `cursor` in an appointment list.
  public static func encode(_ cursor: AppointmentCursor) -> [UInt8] {
    var bytes: [UInt8] = [version, appointmentKind]
    append(UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: cursor.date.dayNumber))), bytes: 4, to: &bytes)
    append(UInt64(UInt16(truncatingIfNeeded: cursor.startMinute)), bytes: 2, to: &bytes)
    append(cursor.appointmentID, bytes: 8, to: &bytes)
    return bytes
  }

  /// The token for the page of doctors after the doctor `doctorID`.
  public static func encode(afterDoctorID doctorID: AccountID) -> [UInt8] {
    var bytes: [UInt8] = [version, doctorKind]
    append(doctorID, bytes: 8, to: &bytes)
    return bytes
  }

  /// The cursor an appointment-list token stands for; nil for the empty token.
  ///
  /// - Throws: `invalidArgument` / `INVALID_PAGE_TOKEN` for a token this module did not make
  ///   for an appointment list.
  public static func appointmentCursor(from token: [UInt8]) throws(AppointmentsError) -> AppointmentCursor? {
    guard !token.isEmpty else { return nil }
    guard token.count == 16, token[0] == version, token[1] == appointmentKind else {
      throw .invalidPageToken()
    }
    let dayNumber = Int(Int32(bitPattern: UInt32(read(token, at: 2, bytes: 4))))
    let startMinute = Int(read(token, at: 6, bytes: 2))
    let date = CivilDate(dayNumber: dayNumber)
    guard CivilDate.supportedYears.contains(date.year), startMinute < 1440 else {
      throw .invalidPageToken()
    }
    return AppointmentCursor(date: date, startMinute: startMinute, appointmentID: read(token, at: 8, bytes: 8))
  }

  /// The doctor id a doctor-list token stands for; nil for the empty token.
  ///
  /// - Throws: `invalidArgument` / `INVALID_PAGE_TOKEN` for a token this module did not make
  ///   for a doctor list.
  public static func doctorID(from token: [UInt8]) throws(AppointmentsError) -> AccountID? {
    guard !token.isEmpty else { return nil }
    guard token.count == 10, token[0] == version, token[1] == doctorKind else {
      throw .invalidPageToken()
    }
    return read(token, at: 2, bytes: 8)
  }

  private static func append(_ value: UInt64, bytes count: Int, to bytes: inout [UInt8]) {
    for shift in stride(from: (count - 1) * 8, through: 0, by: -8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
    }
  }

  private static func read(_ bytes: [UInt8], at offset: Int, bytes count: Int) -> UInt64 {
    bytes[offset..<offset + count].reduce(0) { $0 << 8 | UInt64($1) }
  }
}
