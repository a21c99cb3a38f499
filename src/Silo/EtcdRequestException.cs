namespace MoqCluster.Silo;

/// <summary>etcd answered a request with an error that retrying elsewhere would not fix (bad argument, not found…).</summary>
public sealed class EtcdRequestException : Exception
{
    /// <summary>Create the exception.</summary>
    /// <param name="message">etcd's error text.</param>
    /// <param name="grpcCode">The gRPC status code etcd reported (3 invalid argument, 5 not found, 11 out of range…).</param>
    /// <param name="httpStatus">The HTTP status of the answer.</param>
    public EtcdRequestException(string message, int grpcCode, int httpStatus)
        : base(message)
    {
        GrpcCode = grpcCode;
        HttpStatus = httpStatus;
    }

    /// <summary>The gRPC status code etcd reported.</summary>
    public int GrpcCode { get; }

    /// <summary>The HTTP status of the answer.</summary>
    public int HttpStatus { get; }
}
