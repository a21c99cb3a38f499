using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// A parameter of legacy CLIENT_SETUP / SERVER_SETUP (spec §4.1). The id's parity decides the
/// layout: an even id carries a bare varint <see cref="Value"/>, an odd id a length-prefixed
/// <see cref="Bytes"/> value. A lite relay ignores them all but must parse them to skip them.
/// </summary>
public readonly record struct LegacyParameter
{
    /// <summary>Creates an integer parameter; <paramref name="id"/> must be even.</summary>
    public LegacyParameter(ulong id, ulong value)
    {
        if (!IsInteger(id))
            throw new ArgumentException($"legacy parameter id {id} is odd and carries bytes", nameof(id));
        Id = id;
        Value = value;
        Bytes = null;
    }

    /// <summary>Creates a byte-valued parameter; <paramref name="id"/> must be odd.</summary>
    public LegacyParameter(ulong id, byte[] bytes)
    {
        if (IsInteger(id))
            throw new ArgumentException($"legacy parameter id {id} is even and carries a varint", nameof(id));
        Id = id;
        Value = null;
        Bytes = bytes;
    }

    /// <summary>The parameter id.</summary>
    public ulong Id { get; }

    /// <summary>The value of an even-id parameter, else null.</summary>
    public ulong? Value { get; }

    /// <summary>The value of an odd-id parameter, else null.</summary>
    public byte[]? Bytes { get; }

    /// <summary>True when parameters with <paramref name="id"/> carry a bare varint (even ids).</summary>
    public static bool IsInteger(ulong id) => (id & 1) == 0;

    /// <inheritdoc />
    public bool Equals(LegacyParameter other)
        => Id == other.Id && Value == other.Value && (Bytes ?? []).AsSpan().SequenceEqual(other.Bytes ?? []);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, Value, Bytes?.Length);

    internal void Encode(MessageWriter writer)
    {
        writer.WriteVarInt(Id);
        if (IsInteger(Id))
        {
            writer.WriteVarInt(Value ?? 0);
        }
        else
        {
            var bytes = Bytes ?? [];
            writer.WriteVarInt((ulong)bytes.Length);
            writer.WriteBytes(bytes);
        }
    }

    internal static LegacyParameter Decode(ref MessageReader reader)
    {
        var id = reader.ReadVarInt();
        return IsInteger(id)
            ? new LegacyParameter(id, reader.ReadVarInt())
            : new LegacyParameter(id, reader.ReadSizedBytes().ToArray());
    }

    internal static void EncodeList(MessageWriter writer, IReadOnlyList<LegacyParameter> parameters)
    {
        writer.WriteVarInt((ulong)parameters.Count);
        foreach (var parameter in parameters)
            parameter.Encode(writer);
    }

    internal static IReadOnlyList<LegacyParameter> DecodeList(ref MessageReader reader)
    {
        var count = reader.ReadCount(reader.Limits.MaxParameters, "parameter count");
        var list = SequenceEquality.BoundedList<LegacyParameter>(count, reader.Remaining, 2);
        for (var i = 0; i < count; i++)
            list.Add(Decode(ref reader));
        return list;
    }
}
