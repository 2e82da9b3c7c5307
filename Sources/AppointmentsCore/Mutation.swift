/// What a mutating call on a state value produced: its result and the change it made.
///
/// The state has already applied `change`; the owner of the state records it (see
/// ``ChangeJournal``). `change` is nil when the call changed nothing, e.g. cancelling an
/// appointment that was already cancelled.
public struct Mutation<Value> {
  /// The call's result.
  public var value: Value
  /// The change made, or nil when nothing changed.
  public var change: StateChange?

  /// Creates a mutation result.
  public init(value: Value, change: StateChange?) {
    self.value = value
    self.change = change
  }
}

extension Mutation: Sendable where Value: Sendable {}
