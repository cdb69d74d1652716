import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { api, gatewayErrorBody, gatewayErrors, type GatewayError, type HttpTrigger } from '../manifest.ts';

export interface CheckoutApiProps {
  /** The manifest's `authorizer` function: bearer token → integration and its usage plan key. */
  readonly authorizer: IFunction;
  /** Every route, so that partner routes get their own throttle in the stage. */
  readonly routes: readonly HttpTrigger[];
}

/**
 * Gateway-generated errors, with the bodies the local gateway gives too. The defaults keep API
 * Gateway's own status code (e.g. 403 for a key outside the usage plan, 502/504), not its wording.
 */
const gatewayResponses: { type: ResponseType; error: GatewayError; keepStatus?: true }[] = [
  { type: ResponseType.UNAUTHORIZED, error: gatewayErrors.unauthorized },
  { type: ResponseType.ACCESS_DENIED, error: gatewayErrors.accessDenied },
  { type: ResponseType.THROTTLED, error: gatewayErrors.throttled },
  { type: ResponseType.QUOTA_EXCEEDED, error: gatewayErrors.quotaExceeded },
  { type: ResponseType.REQUEST_TOO_LARGE, error: gatewayErrors.tooLarge },
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, error: gatewayErrors.noSuchRoute },
  { type: ResponseType.DEFAULT_4XX, error: gatewayErrors.rejected, keepStatus: true },
  { type: ResponseType.DEFAULT_5XX, error: gatewayErrors.internal, keepStatus: true },
];

/**
 * The public REST API. A REST API (API Gateway v1) rather than an HTTP API because only REST usage
 * plans throttle per API key, and the authorizer hands API Gateway each integration's key
 * (apiKeySourceType AUTHORIZER), so every POS integration gets its own rate limit.
 */
export class CheckoutApi extends Construct {
  readonly restApi: RestApi;
  readonly usagePlan: UsagePlan;
  private readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: CheckoutApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.restApi = new RestApi(this, 'Api', {
      restApiName: 'checkout',
      description: 'Checkout backend for POS integrations',
      endpointTypes: [EndpointType.REGIONAL],
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      // Every body reaches the handlers as the client's bytes (base64): invalid UTF-8 is refused
      // with a 400 there instead of being turned into U+FFFD by API Gateway.
      binaryMediaTypes: ['*/*'],
      // Stage logging needs the account-level API Gateway CloudWatch role; keep it if the stack goes.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        // A guard for the whole account; each integration's own limit comes from the usage plan.
        throttlingRateLimit: api.stageRateLimitPerSecond,
        throttlingBurstLimit: api.stageBurstLimit,
        // Partner routes have no usage-plan key: each gets its own method throttle instead, so a
        // flood of partner calls cannot use up the stage's capacity for POS traffic.
        methodOptions: Object.fromEntries(
          props.routes
            .filter((route) => route.auth === 'partner')
            .map((route) => [
              `${route.path}/${route.method}`,
              {
                throttlingRateLimit: api.partnerRateLimitPerSecond,
                throttlingBurstLimit: api.partnerBurstLimit,
                // As the stage's: errors only, never a data trace (the path holds the secret).
                loggingLevel: MethodLoggingLevel.ERROR,
                dataTraceEnabled: false,
              },
            ]),
        ),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
      },
    });

    for (const { type, error, keepStatus } of gatewayResponses) {
      this.restApi.addGatewayResponse(type.responseType, {
        type,
        statusCode: keepStatus ? undefined : String(error.statusCode),
        templates: { 'application/json': gatewayErrorBody(error) },
      });
    }

    this.authorizer = new RequestAuthorizer(this, 'BearerAuthorizer', {
      handler: props.authorizer,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.seconds(api.authorizerCacheSeconds),
    });

    // Integrations' API keys are attached to this plan at runtime by the provisioning CLI.
    this.usagePlan = this.restApi.addUsagePlan('PerIntegration', {
      name: 'checkout-integrations',
      description: 'Per-integration throttling; one API key per integration',
      throttle: { rateLimit: api.rateLimitPerSecond, burstLimit: api.burstLimit },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });

    Validations.of(this.restApi.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated in the handlers with zod, which answer with the contract\'s exact {"errors":[{key,message}]} messages.',
    });
    Validations.of(this.restApi.deploymentStage.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'WAF is left as an operational choice: bearer-token authorization, per-integration usage-plan throttling and a stage-wide throttle bound abuse.',
    });
    Validations.of(this.restApi.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway logging role uses the AWS-managed policy API Gateway documents for pushing stage logs.',
    });
  }

  /**
   * A route with its auth mode: `bearer` (the authorizer and a required, authorizer-supplied usage
   * plan key), `admin` (the authorizer, whose policy admits admin tokens only; no usage key), or
   * `partner` (no authorizer and no key: the handler checks the secret in the path).
   */
  addRoute(trigger: HttpTrigger, handler: IFunction): void {
    const integration = new LambdaIntegration(handler, { allowTestInvoke: false });
    const resource = this.restApi.root.resourceForPath(trigger.path);
    if (trigger.auth === 'partner') {
      const route = resource.addMethod(trigger.method, integration, { authorizationType: AuthorizationType.NONE });
      for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(route.node.defaultChild!).acknowledge({
          id,
          reason:
            'A partner (Cielo, e-SiTef, Sicoob) cannot send our bearer token: its per-integration secret is the last path segment, checked hashed and in constant time by the handler; the route has its own method throttle and the access log records the resource path, never the secret.',
        });
      }
      return;
    }
    const route = resource.addMethod(trigger.method, integration, {
      authorizer: this.authorizer,
      authorizationType: AuthorizationType.CUSTOM,
      apiKeyRequired: trigger.auth === 'bearer',
    });
    Validations.of(route.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are POS integrations and operators, not Cognito users: a Lambda REQUEST authorizer checks their hashed bearer tokens.',
    });
  }
}
