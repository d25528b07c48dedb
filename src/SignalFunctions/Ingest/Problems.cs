using Microsoft.AspNetCore.Http.HttpResults;

namespace SignalFunctions.Ingest;

/// <summary>The error answers every endpoint shares: application/problem+json with a sentence saying what to do.</summary>
public static class Problems
{
    public static ValidationProblem Validation(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid; nothing was written.");

    /// <summary>The same 400 body as <see cref="Validation"/>, for code that answers only ProblemHttpResult.</summary>
    public static ProblemHttpResult BadRequest(string field, string message) =>
        TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid; nothing was written.",
        });

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) => TypedResults.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "Unsupported content type",
        detail: $"Content-Type '{contentType ?? "(none)"}' is not accepted; send application/json or text/plain (UTF-8).");

    public static ProblemHttpResult TooLarge(int maxBytes) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        detail: $"The body is over {maxBytes} bytes; send at most {Ingest.SignalEventParser.MaxEvents} events per request, split larger batches.");

    /// <summary>A 503 with the app's Retry-After (Ingest__RetryAfterSeconds): one setting for every endpoint.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string detail) =>
        Unavailable(context, context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<IngestOptions>>().Value.RetryAfterSeconds, detail);

    public static ProblemHttpResult Unavailable(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Service unavailable; nothing was written",
            detail: detail);
    }

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static ProblemHttpResult WriteFailed(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status500InternalServerError,
        title: "The write failed; nothing was written",
        detail: detail);
}
