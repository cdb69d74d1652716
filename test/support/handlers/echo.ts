import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Test-only HTTP handler for the local gateway's own tests: answers with what it was handed. */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      path: event.path,
      pathParameters: event.pathParameters,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    }),
  };
}
