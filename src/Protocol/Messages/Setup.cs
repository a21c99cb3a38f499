using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// The lite-05 SETUP message, sent once on each endpoint's unidirectional stream of type
/// <see cref="UniStreamType.Setup"/> (spec §4.2). It carries capabilities only, never the version.
/// Known parameters are exposed as typed properties; unknown ones are kept in <see cref="Unknown"/>.
/// </summary>
public sealed record Setup : IMessage<Setup>
{
    /// <summary>Probe capability; <see cref="ProbeLevel.None"/> is encoded by omitting the parameter.</summary>
    public ProbeLevel Probe { get; init; }

    /// <summary>Request path with optional <c>?query</c> (raw-QUIC clients only); null or empty = absent.</summary>
    public string? Path { get; init; }

    /// <summary>Declared role; null = absent (the relay then assumes <see cref="SetupRole.Both"/>).</summary>
    public SetupRole? Role { get; init; }

    /// <summary>The sender's origin (hop) id; null = absent, 0 = none.</summary>
    public ulong? Origin { get; init; }

    /// <summary>Parameters with ids this library does not interpret, in wire order; encoded after the known ones.</summary>
    public IReadOnlyList<SetupParameter> Unknown { get; init; } = [];

    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasSetupStream();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        var hasPath = !string.IsNullOrEmpty(Path);
        var count = (Probe != ProbeLevel.None ? 1 : 0) + (hasPath ? 1 : 0) + (Role is null ? 0 : 1) + (Origin is null ? 0 : 1) + Unknown.Count;
        writer.WriteVarInt((ulong)count);
        // Ascending id order matches what the clients send; order is not significant to decoders.
        if (Probe != ProbeLevel.None)
            WriteInteger(writer, SetupParameterId.Probe, (ulong)Probe);
        if (hasPath)
        {
            writer.WriteVarInt((ulong)SetupParameterId.Path);
            writer.WriteString(Path!);
        }
        if (Role is { } role)
            WriteInteger(writer, SetupParameterId.Role, (ulong)role);
        if (Origin is { } origin)
        {
            if (origin > VarInt.MaxSafeInteger)
                throw new ProtocolException(MoqErrorCode.Encode, $"origin id {origin} exceeds 2^53-1");
            WriteInteger(writer, SetupParameterId.Origin, origin);
        }
        foreach (var parameter in Unknown)
        {
            if (IsKnown(parameter.Id))
                throw new ProtocolException(MoqErrorCode.Encode, $"SETUP parameter {parameter.Id} must be set through its typed property");
            writer.WriteVarInt(parameter.Id);
            writer.WriteVarInt((ulong)parameter.Value.Length);
            writer.WriteBytes(parameter.Value);
        }
    }

    /// <inheritdoc />
    public static Setup DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        // @moq/net encodes a SETUP without parameters as an empty body (spec §7.2 V8 "01 00"),
        // while Rust always writes the count; accept both. We always write the count, which both accept.
        if (reader.Remaining == 0)
            return new Setup();
        var count = reader.ReadCount(reader.Limits.MaxParameters, "SETUP parameter count");
        // Every parameter takes at least two bytes, so the remaining input bounds the scratch space.
        Span<ulong> seen = count <= 64 ? stackalloc ulong[count] : new ulong[Math.Min(count, reader.Remaining / 2 + 1)];
        var probe = ProbeLevel.None;
        string? path = null;
        SetupRole? role = null;
        ulong? origin = null;
        List<SetupParameter>? unknown = null;
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadVarInt();
            if (seen[..i].Contains(id))
                throw new DecodeException($"duplicate SETUP parameter {id}");
            seen[i] = id;
            var value = reader.ReadSizedBytes();
            switch ((SetupParameterId)id)
            {
                case SetupParameterId.Probe:
                    probe = ReadInteger(value, id) switch { 0 => ProbeLevel.None, 1 => ProbeLevel.Report, _ => ProbeLevel.Increase };
                    break;
                case SetupParameterId.Path:
                    var valueReader = new MessageReader(value, reader.Limits);
                    var text = valueReader.ReadUtf8(value.Length);
                    path = text.Length == 0 ? null : text;
                    break;
                case SetupParameterId.Role:
                    var roleValue = ReadInteger(value, id);
                    role = roleValue <= (ulong)SetupRole.Subscriber ? (SetupRole)roleValue : SetupRole.Both;
                    break;
                case SetupParameterId.Origin:
                    origin = ReadInteger(value, id);
                    break;
                default:
                    (unknown ??= []).Add(new SetupParameter(id, value.ToArray()));
                    break;
            }
        }
        return new Setup { Probe = probe, Path = path, Role = role, Origin = origin, Unknown = (IReadOnlyList<SetupParameter>?)unknown ?? [] };
    }

    private static bool IsKnown(ulong id) => id is (ulong)SetupParameterId.Probe or (ulong)SetupParameterId.Path
        or (ulong)SetupParameterId.Role or (ulong)SetupParameterId.Origin;

    private static void WriteInteger(MessageWriter writer, SetupParameterId id, ulong value)
    {
        writer.WriteVarInt((ulong)id);
        writer.WriteVarInt((ulong)VarInt.SizeOf(value));
        writer.WriteVarInt(value);
    }

    /// <summary>Integer parameters must hold exactly one varint inside their length.</summary>
    private static ulong ReadInteger(ReadOnlySpan<byte> value, ulong id)
    {
        if (!VarInt.TryRead(value, out var result, out var consumed) || consumed != value.Length)
            throw new DecodeException($"SETUP parameter {id} must hold exactly one varint");
        return result;
    }

    /// <inheritdoc />
    public bool Equals(Setup? other) => other is not null && Probe == other.Probe && Path == other.Path && Role == other.Role
        && Origin == other.Origin && SequenceEquality.Equal(Unknown, other.Unknown);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Probe, Path, Role, Origin, SequenceEquality.Hash(Unknown));
}
