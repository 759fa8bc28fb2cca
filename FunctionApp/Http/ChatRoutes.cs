namespace FunctionsChat.Http;

/// <summary>Routes as the host sees them (host.json sets routePrefix to ""), and the URLs built from them.</summary>
public static class ChatRoutes
{
    public const string Message = "Chat/{sessionId}/message";
    public const string Send = "Chat/{sessionId}/message/send";
    public const string History = "Chat/{sessionId}/getHistory";
    public const string Turn = "Chat/{sessionId}/turns/{turnId}";
    public const string TurnStream = "Chat/{sessionId}/turns/{turnId}/stream";
    public const string Events = "Chat/{sessionId}/events";
    public const string Regenerate = "Chat/{sessionId}/turns/{turnId}/regenerate";
    public const string Edit = "Chat/{sessionId}/turns/{turnId}/edit";
    public const string Branch = "Chat/{sessionId}/branch";
    public const string Fork = "Chat/{sessionId}/fork";
    public const string Session = "Chat/{sessionId}";
    public const string Sessions = "Chat";

    public static string HistoryUrl(string sessionId) => $"/Chat/{Uri.EscapeDataString(sessionId)}/getHistory";

    public static string TurnUrl(string sessionId, string turnId) =>
        $"/Chat/{Uri.EscapeDataString(sessionId)}/turns/{Uri.EscapeDataString(turnId)}";
}
