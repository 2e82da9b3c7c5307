/// One page of a list and whether more follow.
///
/// Shards answer pages of their own; a caller that merges shards takes up to `limit` items from
/// each, merges them in list order, and has more to offer when any shard did or when the merge
/// left items over.
public struct Page<Item> {
  /// The items, in list order, at most the `limit` asked for.
  public var items: [Item]
  /// Whether items follow the last one of this page.
  public var hasMore: Bool

  /// Creates a page.
  public init(items: [Item], hasMore: Bool) {
    self.items = items
    self.hasMore = hasMore
  }
}

extension Page: Sendable where Item: Sendable {}
extension Page: Equatable where Item: Equatable {}
