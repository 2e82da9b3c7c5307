import Foundation

/// Prints results as short text for people or, with `--json`, as one JSON object per line.
struct Output {
  let json: Bool

  /// Prints `value` as JSON, or the text `human` builds.
  func emit(_ value: some Encodable, human: () -> String) throws {
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      let data = try encoder.encode(value)
      print(String(decoding: data, as: UTF8.self))
    } else {
      print(human())
    }
  }
}

/// Lays out rows under a header, each column as wide as its widest cell, two spaces apart.
func table(_ header: [String], _ rows: [[String]]) -> String {
  var widths = header.map(\.count)
  for row in rows {
    for (column, cell) in row.enumerated() where column < widths.count {
      widths[column] = max(widths[column], cell.count)
    }
  }
  func line(_ cells: [String]) -> String {
    var text = ""
    for (column, cell) in cells.enumerated() {
      let isLast = column == cells.count - 1
      text += isLast ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
    }
    return text
  }
  return ([line(header)] + rows.map(line)).joined(separator: "\n")
}
