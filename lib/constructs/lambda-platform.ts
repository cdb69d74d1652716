import { AspectPriority, Aspects, CfnResource, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** What every Lambda the app deploys runs: the product's functions and CDK's own alike. */
export const LAMBDA_RUNTIME = 'nodejs22.x';
export const LAMBDA_ARCHITECTURES = ['arm64'];

/**
 * Pins every AWS::Lambda::Function in the app to Node 22 on ARM64, including those CDK adds by
 * itself (custom resource providers: log retention, bucket auto-delete, AwsCustomResource, the
 * Provider framework), which otherwise run CDK's latest Node on x86_64. Their handlers are plain
 * JavaScript, so only the runtime and the architecture change. A function on another language's
 * runtime fails the synthesis instead of being rewritten into one that cannot run it.
 */
class NodeOnArm implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    // CDK's own providers are plain CfnResources (their properties are not typed); CfnFunction for the rest.
    const properties = (node as unknown as { _cfnProperties?: { Runtime?: unknown } })._cfnProperties;
    const runtime: unknown = Stack.of(node).resolve(node instanceof CfnFunction ? node.runtime : properties?.Runtime);
    if (typeof runtime === 'string' && !runtime.startsWith('nodejs')) {
      throw new Error(
        `${node.node.path} runs ${runtime}: every Lambda this app deploys runs Node 22 on ARM64 (lib/constructs/lambda-platform.ts)`,
      );
    }
    if (node instanceof CfnFunction) {
      node.runtime = LAMBDA_RUNTIME;
      node.architectures = LAMBDA_ARCHITECTURES;
      Validations.of(node).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The product brief fixes the Lambda runtime at Node.js 22; a runtime change is a deliberate product decision.',
      });
    } else {
      node.addPropertyOverride('Runtime', LAMBDA_RUNTIME);
      node.addPropertyOverride('Architectures', LAMBDA_ARCHITECTURES);
    }
  }
}

/** Applies the pin to everything in `scope` (the app), before cdk-nag and the templates see it. */
export function pinLambdaPlatform(scope: IConstruct): void {
  Aspects.of(scope).add(new NodeOnArm(), { priority: AspectPriority.MUTATING });
}
