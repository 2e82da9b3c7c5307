import ArgumentParser

/// `--page-size` and `--page-token`, for the commands that list.
struct PageOptions: ParsableArguments {
  @Option(name: .customLong("page-size"), help: "Results per page (default: the server's, 50; at most 500).")
  var pageSize: UInt32 = 0

  @Option(name: .customLong("page-token"), help: "Where to continue: the token printed after the previous page.", transform: ArgumentParsing.pageToken)
  var pageToken: [UInt8] = []

  /// The line printed after a page that has a next one.
  static func nextPageHint(_ token: [UInt8]) -> String? {
    Rendering.pageToken(token).map { "More results: add --page-token \($0)" }
  }
}
