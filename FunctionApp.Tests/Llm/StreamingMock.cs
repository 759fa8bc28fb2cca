using Microsoft.Extensions.AI;
using Moq;

namespace FunctionsChat.Tests.Llm;

/// <summary>A mocked model streams whatever its scripted (non-streaming) response is, update by update.</summary>
public static class StreamingMock
{
    public static Mock<IChatClient> StreamingItsResponses(this Mock<IChatClient> chat)
    {
        chat.Setup(c => c.GetStreamingResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellation) => Stream(chat.Object, messages, options, cancellation));
        return chat;
    }

    public static async IAsyncEnumerable<ChatResponseUpdate> Stream(
        IChatClient chat, IEnumerable<ChatMessage> messages, ChatOptions? options, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var response = await chat.GetResponseAsync(messages, options, cancellation);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }
}
