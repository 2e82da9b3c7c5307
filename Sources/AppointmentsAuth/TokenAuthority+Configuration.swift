extension TokenAuthority {
  /// What a ``TokenAuthority`` puts in tokens and accepts from them.
  public struct Configuration: Sendable, Hashable {
    /// The `iss` claim written and required.
    public var issuer: String
    /// The `aud` claim written and required.
    public var audience: String
    /// How long a token is valid after it is issued; whole seconds, at least one.
    public var lifetime: Duration
    /// How far in the future a token's `iat` may lie, to absorb clock differences between servers
    /// that share the secret. `exp` gets no leeway: a token is refused from its `exp` on.
    public var clockSkewLeeway: Duration
    /// How many verified tokens the request-path cache keeps; 0 turns it off.
    public var cacheCapacity: Int

    /// issuer `appointmentd`, audience `appointments`, lifetime 1 hour, clock-skew leeway
    /// 60 seconds (for `iat` only), cache of 10 000 tokens.
    public static var defaults: Configuration {
      Configuration()
    }

    /// Creates a configuration; unspecified values are those of ``defaults``.
    public init(
      issuer: String = "appointmentd",
      audience: String = "appointments",
      lifetime: Duration = .seconds(3600),
      clockSkewLeeway: Duration = .seconds(60),
      cacheCapacity: Int = 10_000
    ) {
      self.issuer = issuer
      self.audience = audience
      self.lifetime = lifetime
      self.clockSkewLeeway = clockSkewLeeway
      self.cacheCapacity = cacheCapacity
    }
  }
}
