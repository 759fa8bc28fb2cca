namespace FunctionsChat.Surface;

/// <summary>What every member with real behaviour does here: refuse, because nothing in this assembly runs.</summary>
internal static class SurfaceOnly
{
    public const string Message =
        "FunctionsChat.Surface is a compile-only declaration of the Azure Functions and Durable Task APIs; it cannot run. Build with FunctionsChatUseSurface=false against the real packages.";

    public static NotSupportedException Fail() => new(Message);
}
